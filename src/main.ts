import { mount } from 'svelte';
import App from './app/App.svelte';
import { startOfflineSupport } from './app/stores/offline.svelte';
import { pipeline } from './app/stores/pipeline.svelte';
import { queue } from './app/stores/queue.svelte';
import './app/theme.css';

mount(App, { target: document.getElementById('app')! });
startOfflineSupport(
  () =>
    (pipeline.status === 'ready' || pipeline.status === 'error') &&
    !queue.entries.some((e) => e.state === 'queued' || e.state === 'running'),
);
