// Building the page from data. Text always goes in through textContent: no string from the
// server or the user ever reaches the DOM as markup.

/**
 * h("button", {type: "button", class: "small", onclick: fn, "aria-label": "..."}, "text", child)
 * Attributes starting with "on" become listeners; false/null/undefined attributes are left out.
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      node.className = value;
    } else if (name === "text") {
      node.textContent = value;
    } else if (name in node && typeof value !== "string") {
      node[name] = value;
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

/** A labelled form field: {label, input} with the input's id tied to the label. */
let fieldCount = 0;
export function field(labelText, input, hint = null) {
  fieldCount += 1;
  const id = input.id || `field-${fieldCount}`;
  input.id = id;
  const parts = [h("label", { for: id }, labelText), input];
  if (hint) {
    const hintId = `${id}-hint`;
    input.setAttribute("aria-describedby", hintId);
    parts.push(h("small", { id: hintId, class: "muted" }, hint));
  }
  return h("div", { class: "field" }, ...parts);
}

/** A message area for a form's outcome, announced by screen readers. */
export function statusLine() {
  return h("p", { class: "notice", role: "status", "aria-live": "polite" });
}

export function showMessage(node, text, kind = "error") {
  node.className = `notice ${kind}`;
  node.textContent = text;
}

/** Moves focus after a navigation to where the view says ([data-focus-first]) or else to its
 * heading, so keyboard and screen-reader users start there. */
export function focusHeading(root) {
  const heading = root.querySelector("[data-focus-first]") || root.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
  }
}
