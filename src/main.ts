import { mount } from 'svelte';
import App from './app/App.svelte';
import { startOfflineSupport } from './app/stores/offline.svelte';
import './app/theme.css';

mount(App, { target: document.getElementById('app')! });
startOfflineSupport();
