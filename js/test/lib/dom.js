// A happy-dom window for the page's tests, and mounting the widget in it with a fake model.
import { after, before } from "node:test";
import { Window } from "happy-dom";

import widget from "../../widget.js";
import { FakeModel } from "./fake-model.js";

/** Open a happy-dom window before the file's tests and close it after them. */
export function useDom() {
  let window;
  before(() => {
    window = new Window();
    globalThis.window = window;
    for (const key of ["document", "HTMLInputElement", "requestAnimationFrame"]) globalThis[key] = window[key];
  });
  after(async () => {
    await window.happyDOM.close();
  });
}

/** Render the widget for `state` into a new element of the page. */
export function mount(state) {
  const model = new FakeModel(state);
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = widget.render({ model, el });
  return { model, el, cleanup };
}
