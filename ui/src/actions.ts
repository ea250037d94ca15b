// Cancel, Redrive and Send message: each asks for confirmation in a modal dialog first.

import { api, ApiError } from './api.js';
import { h } from './dom.js';
import { errorText } from './format.js';

export interface ActionHost {
  /** Where the dialogs go: outside the part of the page that live updates redraw. */
  root: HTMLElement;
  /** Says how an action went. */
  report(text: string, ok: boolean): void;
  /** Called after an action was carried out. */
  done(): void;
}

/**
 * Shows a modal dialog with `fields`, and runs `act` when it is confirmed; a rejection of `act`
 * is shown in the dialog, which then stays open.
 */
function confirmDialog(host: ActionHost, title: string, text: string, fields: HTMLElement[], confirm: string, act: () => Promise<string>): void {
  const problem = h('p', { class: 'problem', role: 'alert' });
  const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
  const dialog = h('dialog', { 'aria-labelledby': titleId });
  const ok = h('button', { type: 'submit', class: 'danger' }, confirm);
  const form = h(
    'form',
    {
      method: 'dialog',
      onsubmit: (e: Event) => {
        e.preventDefault();
        ok.disabled = true;
        act().then(
          (message) => {
            dialog.close();
            host.report(message, true);
            host.done();
          },
          (err: unknown) => {
            ok.disabled = false;
            problem.textContent = err instanceof ApiError ? errorText(err) : err instanceof Error ? err.message : String(err);
          },
        );
      },
    },
    h('h2', { id: titleId }, title),
    h('p', {}, text),
    ...fields,
    problem,
    h('div', { class: 'buttons' }, h('button', { type: 'button', onclick: () => dialog.close() }, 'Back'), ok),
  );
  dialog.append(form);
  dialog.addEventListener('close', () => dialog.remove());
  host.root.append(dialog);
  dialog.showModal();
}

const field = (id: string, label: string, control: HTMLElement): HTMLElement => h('p', { class: 'field' }, h('label', { for: id }, label), control);

/** Asks, then cancels flow `id`. */
export function askCancel(host: ActionHost, id: string): void {
  const reason = h('input', { id: 'cancel-reason', name: 'reason', placeholder: 'cancelled' });
  confirmDialog(
    host,
    'Cancel this flow?',
    `Flow ${id} stops; the rivers that succeeded are compensated where they can be.`,
    [field('cancel-reason', 'Reason (optional)', reason)],
    'Cancel flow',
    async () => {
      const r = reason.value.trim();
      const { status } = await api<{ status: string }>(`/flows/${encodeURIComponent(id)}/cancel`, { method: 'POST', body: r === '' ? {} : { reason: r } });
      // by the flow's status after the call: another engine, or none, may run it
      if (status === 'cancelled') return `Flow ${id} cancelled.`;
      if (status === 'success' || status === 'fail') return `Flow ${id} had ended (${status}); left as it is.`;
      return `Cancel of ${id} recorded (the flow is ${status}): the engine that runs it stops it.`;
    },
  );
}

/** Asks, then redrives flow `id`. */
export function askRedrive(host: ActionHost, id: string): void {
  confirmDialog(
    host,
    'Redrive this flow?',
    `Flow ${id} runs again from its failed rivers; the rivers that succeeded do not run again.`,
    [],
    'Redrive flow',
    async () => {
      const { recorded } = await api<{ recorded?: boolean }>(`/flows/${encodeURIComponent(id)}/redrive`, { method: 'POST' });
      return recorded === true ? `Redrive of ${id} recorded: an engine with the flow's classes runs it again.` : `Flow ${id} redriven.`;
    },
  );
}

/** Asks for a message's name and payload, then sends it to flow `id`. */
export function askSend(host: ActionHost, id: string): void {
  const name = h('input', { id: 'msg-name', name: 'name', required: true, autocomplete: 'off' });
  const payload = h('textarea', { id: 'msg-payload', name: 'payload', rows: 5, spellcheck: 'false' }, 'null');
  confirmDialog(
    host,
    'Send a message?',
    `The message goes to the inbox of flow ${id}; a Dam of its name takes it.`,
    [field('msg-name', 'Message name', name), field('msg-payload', 'Payload (JSON)', payload)],
    'Send message',
    async () => {
      let body: unknown;
      try {
        body = JSON.parse(payload.value);
      } catch {
        throw new Error('The payload is not JSON.');
      }
      await api(`/flows/${encodeURIComponent(id)}/messages/${encodeURIComponent(name.value.trim())}`, { method: 'POST', body });
      return `Message "${name.value.trim()}" sent to ${id}.`;
    },
  );
}
