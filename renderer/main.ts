import { mount } from 'svelte';
import './styles.css';
import App from './App.svelte';
import { makeClient } from './lib/api.js';
import { appContext, createApp, startApp } from './lib/state/app.js';

const app = createApp(makeClient());
startApp(app);
mount(App, { target: document.getElementById('app')!, context: appContext(app) });
