/**
 * The labels suggested names are chosen from, with a CLIP-like model: everyday categories of
 * photo collections and teaching sets (people, animals, food, places, things, documents,
 * events), each embedded as the zero-shot prompt "a photo of {label}" (CLIP's own template).
 * Shipped with the app; a group is offered the label whose prompt is nearest its images.
 */
export const NAME_PROMPT = 'a photo of {label}';

export const NAME_VOCABULARY: readonly string[] = [
  // people and moments
  'people', 'a portrait', 'a selfie', 'a baby', 'children', 'a family', 'a group of friends', 'a crowd', 'a wedding', 'a birthday party',
  'a concert', 'a graduation', 'a sports match', 'a dance', 'a picnic', 'a meeting', 'a classroom', 'a conference', 'a parade', 'fireworks',
  // animals
  'a dog', 'a cat', 'a bird', 'a horse', 'a cow', 'a sheep', 'a pig', 'a goat', 'a chicken', 'a duck',
  'a fish', 'a rabbit', 'a hamster', 'a turtle', 'a frog', 'a snake', 'a lizard', 'a butterfly', 'a bee', 'a spider',
  'an insect', 'a deer', 'a fox', 'a bear', 'a lion', 'a tiger', 'an elephant', 'a giraffe', 'a zebra', 'a monkey',
  'a penguin', 'a dolphin', 'a whale', 'a squirrel', 'a owl', 'a parrot', 'a swan', 'a camel', 'a kangaroo', 'a panda',
  // food and drink
  'food', 'a meal', 'breakfast', 'a salad', 'soup', 'pasta', 'pizza', 'a burger', 'a sandwich', 'sushi',
  'rice', 'bread', 'a cake', 'cookies', 'ice cream', 'chocolate', 'fruit', 'an apple', 'a banana', 'an orange',
  'a strawberry', 'grapes', 'a lemon', 'a watermelon', 'vegetables', 'a tomato', 'a carrot', 'a potato', 'a mushroom', 'cheese',
  'eggs', 'meat', 'coffee', 'tea', 'wine', 'beer', 'a cocktail', 'juice', 'a restaurant', 'a kitchen',
  // nature and places
  'a beach', 'the sea', 'a lake', 'a river', 'a waterfall', 'a mountain', 'a forest', 'a tree', 'a flower', 'a garden',
  'a park', 'a field', 'grass', 'a desert', 'snow', 'ice', 'the sky', 'clouds', 'a sunset', 'a sunrise',
  'the night sky', 'the moon', 'rain', 'a storm', 'a rainbow', 'a cave', 'an island', 'a volcano', 'a canyon', 'rocks',
  'leaves', 'autumn leaves', 'a cactus', 'a palm tree', 'a farm', 'a vineyard', 'a countryside landscape', 'a landscape', 'a coast', 'a harbor',
  // city and buildings
  'a city', 'a street', 'a building', 'a skyscraper', 'a house', 'a church', 'a temple', 'a castle', 'a bridge', 'a tower',
  'a monument', 'a statue', 'a museum', 'a shop', 'a market', 'a mall', 'a station', 'an airport', 'a stadium', 'a school',
  'a hospital', 'an office', 'a factory', 'a construction site', 'a road', 'a highway', 'a parking lot', 'a playground', 'a swimming pool', 'a hotel room',
  // rooms and home
  'a living room', 'a bedroom', 'a bathroom', 'a dining table', 'a sofa', 'a bed', 'a chair', 'a table', 'a desk', 'a window',
  'a door', 'stairs', 'a lamp', 'a bookshelf', 'a houseplant', 'a rug', 'a fireplace', 'a balcony', 'a garage', 'a backyard',
  // vehicles
  'a car', 'a bus', 'a truck', 'a train', 'a tram', 'a bicycle', 'a motorcycle', 'a scooter', 'an airplane', 'a helicopter',
  'a boat', 'a sailboat', 'a ship', 'a kayak', 'a tractor', 'a fire truck', 'a taxi', 'a rocket', 'a hot air balloon', 'a subway',
  // things
  'a phone', 'a computer', 'a laptop', 'a keyboard', 'a screen', 'a television', 'a camera', 'headphones', 'a watch', 'a clock',
  'a book', 'a pen', 'a bag', 'a backpack', 'a suitcase', 'shoes', 'a dress', 'a shirt', 'a jacket', 'a hat',
  'glasses', 'jewelry', 'a ring', 'a toy', 'a teddy bear', 'a doll', 'a ball', 'a kite', 'a guitar', 'a piano',
  'a violin', 'drums', 'a bottle', 'a cup', 'a plate', 'a knife', 'a vase', 'a candle', 'a gift', 'balloons',
  'a christmas tree', 'decorations', 'tools', 'a bicycle helmet', 'an umbrella', 'a tent', 'a flag', 'a sign', 'a trophy', 'money',
  // documents and screens
  'a receipt', 'a document', 'a letter', 'a form', 'a ticket', 'a map', 'a menu', 'a poster', 'a whiteboard', 'handwriting',
  'a screenshot', 'a chart', 'a diagram', 'a slide', 'a table of numbers', 'a page of text', 'a book page', 'a passport', 'an identity card', 'a business card',
  'a QR code', 'a calendar', 'a newspaper', 'a magazine', 'a comic', 'a drawing', 'a painting', 'a sketch', 'a cartoon', 'clip art',
  // activities and sports
  'football', 'basketball', 'tennis', 'golf', 'swimming', 'running', 'cycling', 'skiing', 'surfing', 'climbing',
  'hiking', 'camping', 'fishing', 'yoga', 'a gym', 'cooking', 'gardening', 'reading', 'a video game', 'a board game',
  // art, texture, colour
  'a pattern', 'a texture', 'text', 'a logo', 'an icon', 'a close-up', 'a blurry photo', 'a black and white photo', 'a dark photo', 'an abstract image',
];
