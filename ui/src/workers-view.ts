// The engines on the store and their heartbeats (on LevelDB and memory: the serving engine only).

import { api, onReachable } from './api.js';
import { h, replace } from './dom.js';
import { ago, time } from './format.js';
import type { WorkerInfo } from './types.js';
import type { View } from './view.js';

const EVERY_MS = 3000;

export const workersView: View = (root, { fail }) => {
  const table = h('div', { class: 'table' });
  replace(root, h('h1', {}, 'Workers'), h('p', {}, 'The engines that run flows on this store, by their last heartbeat.'), table);
  let alive = true;
  const load = async (): Promise<void> => {
    const workers = await api<WorkerInfo[]>('/workers');
    if (!alive) return;
    replace(
      table,
      workers.length === 0
        ? h('p', { class: 'empty' }, 'No engine is alive on this store.')
        : h(
            'table',
            { class: 'workers' },
            h('caption', { class: 'sr' }, 'Engines'),
            h('thead', {}, h('tr', {}, ...['Engine id', 'Last heartbeat', '', 'Flows running'].map((c) => h('th', { scope: 'col' }, c)))),
            h(
              'tbody',
              {},
              ...workers.map((w) =>
                h(
                  'tr',
                  { 'data-worker': w.id },
                  h('td', { class: 'mono' }, w.id),
                  h('td', {}, time(w.heartbeatAt)),
                  h('td', {}, ago(w.heartbeatAt)),
                  h('td', {}, String(w.running)),
                ),
              ),
            ),
          ),
    );
  };
  void load().catch(fail);
  const timer = setInterval(() => void load().catch(fail), EVERY_MS);
  const offReach = onReachable((up) => up && void load().catch(fail));
  return () => {
    alive = false;
    clearInterval(timer);
    offReach();
  };
};
