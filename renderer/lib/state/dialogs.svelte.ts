/** What is open over the screen: a question dialog, the shortcuts, the export dialog. */

/**
 * A dialog field. Text and number fields say whether they must be filled (`required`): the
 * browser blocks the dialog's button until they are. `when` shows a field only while another
 * field has a given value (a new group's name, only when "a new group" is chosen).
 */
export type Field = { name: string; label: string; when?: { field: string; is: string } } & (
  | { type: 'text'; required: boolean; value?: string; placeholder?: string }
  | { type: 'number'; required: boolean; value?: number; min?: number; max?: number }
  | { type: 'select'; value?: string; options: Array<{ value: string; label: string }> }
  /** A list of groups to choose from, each with its thumbnail, colour and number key (Move to…). */
  | {
      type: 'groups';
      value?: string;
      options: Array<{ value: string; label: string; detail?: string; thumb?: string; color?: string; key?: number | null }>;
    }
);

export interface Dialog {
  title: string;
  body?: string;
  fields: Field[];
  confirm: string;
  danger?: boolean;
  /**
   * Does the dialog's work when confirmed: a message keeps the dialog open with it shown and
   * the typed values kept (a name already taken), null closes it. Without it, it just closes.
   */
  submit?: (values: Record<string, string>) => Promise<string | null>;
  resolve: (values: Record<string, string> | null) => void;
}

export class Dialogs {
  dialog = $state<Dialog | null>(null);
  showHelp = $state(false);
  showExport = $state(false);
  /** Set to ask the Groups screen to focus its search field (Edit > Find Group…); it clears it. */
  focusSearch = $state(false);

  ask(d: Omit<Dialog, 'resolve'>): Promise<Record<string, string> | null> {
    return new Promise((resolve) => {
      this.dialog = {
        ...d,
        resolve: (v) => {
          this.dialog = null;
          resolve(v);
        },
      };
    });
  }

  async confirm(title: string, body: string, confirm = 'OK', danger = false): Promise<boolean> {
    return (await this.ask({ title, body, fields: [], confirm, danger })) !== null;
  }
}
