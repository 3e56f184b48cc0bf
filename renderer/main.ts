import { mount } from 'svelte';
import './styles.css';
import App from './App.svelte';
import { makeClient } from './lib/api.js';
import { AppState } from './lib/app.svelte.js';

const app = new AppState(makeClient());
app.start();
mount(App, { target: document.getElementById('app')!, props: { app } });
