// Lets the root `tsc -p tsconfig.json` see .svelte imports in component tests (svelte-check
// type-checks the components themselves).
declare module '*.svelte' {
  import type { Component } from 'svelte';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any props: the components are typed by svelte-check
  const component: Component<any>;
  export default component;
}
