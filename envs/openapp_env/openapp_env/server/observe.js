// Runs in the page after every action: gives every element a bid, then returns the
// accessibility tree as text and the pruned HTML. Elements the apps marked keep their
// semantic bid ("add-event"); the others get numbers, as BrowserGym gives them.
() => {
  let next = 1;
  const used = new Set();
  for (const el of document.querySelectorAll("[bid]")) used.add(el.getAttribute("bid"));
  for (const el of document.body ? document.body.querySelectorAll("*") : []) {
    if (el.hasAttribute("bid")) continue;
    while (used.has(String(next))) next++;
    el.setAttribute("bid", String(next));
    used.add(String(next));
  }

  const IMPLICIT = {
    A: "link", BUTTON: "button", SELECT: "combobox", TEXTAREA: "textbox", OPTION: "option",
    H1: "heading", H2: "heading", H3: "heading", H4: "heading", H5: "heading", H6: "heading",
    UL: "list", OL: "list", LI: "listitem", NAV: "navigation", MAIN: "main", FORM: "form",
    TABLE: "table", TR: "row", TD: "cell", TH: "columnheader", IMG: "img", P: "paragraph",
    HEADER: "banner", FOOTER: "contentinfo", ASIDE: "complementary", DIALOG: "dialog",
    LABEL: "LabelText", ARTICLE: "article", SECTION: "region",
  };
  const INPUT_ROLES = {
    checkbox: "checkbox", radio: "radio", button: "button", submit: "button", reset: "button",
    search: "searchbox", range: "slider", number: "spinbutton",
  };
  const NAMED_BY_CONTENT = new Set(["link", "button", "heading", "option", "LabelText", "cell",
    "columnheader", "tab", "menuitem", "checkbox", "radio", "img"]);
  const clip = (s, n = 120) => (s.length > n ? s.slice(0, n - 1) + "…" : s);
  const squash = (s) => (typeof s === "string" ? s : "").replace(/\s+/g, " ").trim();
  // Attributes, not properties: a form's .name or .title can be one of its inputs.
  const attr = (el, name) => el.getAttribute(name) || "";

  function role(el) {
    if (el.getAttribute("role")) return el.getAttribute("role");
    if (el.tagName === "INPUT") return INPUT_ROLES[(el.type || "text").toLowerCase()] || "textbox";
    if (el.tagName === "A" && !el.hasAttribute("href")) return null;
    return IMPLICIT[el.tagName] || null;
  }
  function name(el) {
    const label = el.getAttribute("aria-label");
    if (label) return squash(label);
    if (el.id) {
      const forLabel = document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
      if (forLabel) return squash(forLabel.innerText);
    }
    if (el.closest("label") && ["INPUT", "SELECT", "TEXTAREA"].includes(el.tagName)) {
      return squash(el.closest("label").innerText);
    }
    if (el.tagName === "IMG") return squash(attr(el, "alt"));
    if (["INPUT", "TEXTAREA"].includes(el.tagName)) {
      return squash(attr(el, "placeholder") || attr(el, "title") || attr(el, "name"));
    }
    if (el.tagName === "SELECT") return squash(attr(el, "title") || attr(el, "name"));
    // Containers (main, list, form, region ...) are named only by aria-label: their text
    // is listed below them, not repeated in their name.
    if (!NAMED_BY_CONTENT.has(role(el))) return squash(attr(el, "title"));
    return squash(el.innerText || attr(el, "title"));
  }
  function visible(el) {
    if (el.getAttribute("aria-hidden") === "true" || el.hidden) return false;
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden") return false;
    return !(el.tagName === "INPUT" && el.type === "hidden");
  }

  const lines = [];
  function walk(node, depth) {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        const text = squash(child.textContent);
        const parentRole = role(child.parentElement);
        if (text && !["link", "button", "heading", "option", "LabelText"].includes(parentRole)) {
          lines.push("  ".repeat(depth) + `StaticText ${JSON.stringify(clip(text, 200))}`);
        }
        continue;
      }
      if (child.nodeType !== Node.ELEMENT_NODE || !visible(child)) continue;
      if (["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "HEAD"].includes(child.tagName)) continue;
      const r = role(child);
      if (r) {
        const label = clip(name(child));
        let line = `[${child.getAttribute("bid")}] ${r}` + (label ? ` ${JSON.stringify(label)}` : "");
        if (child.tagName === "INPUT" || child.tagName === "TEXTAREA") {
          if (["checkbox", "radio"].includes(child.type)) line += child.checked ? ", checked" : ", unchecked";
          else if (child.value) line += `, value=${JSON.stringify(clip(child.value))}`;
        }
        if (child.tagName === "SELECT" && child.selectedOptions.length) {
          line += `, selected=${JSON.stringify(squash(child.selectedOptions[0].text))}`;
        }
        if (child.disabled) line += ", disabled";
        if (/^H[1-6]$/.test(child.tagName)) line += `, level=${child.tagName[1]}`;
        lines.push("  ".repeat(depth) + line);
        if (!["link", "button", "option", "textbox", "searchbox"].includes(r) || child.tagName === "SELECT") {
          walk(child, depth + 1);
        }
      } else {
        walk(child, depth);
      }
    }
  }
  lines.push(`RootWebArea ${JSON.stringify(document.title)}`);
  if (document.body) walk(document.body, 1);

  const KEEP = new Set(["bid", "id", "name", "type", "value", "href", "placeholder", "role",
    "checked", "selected", "disabled", "for", "alt", "title", "action", "method"]);
  const clone = document.documentElement.cloneNode(true);
  for (const el of clone.querySelectorAll("script, style, noscript, template, svg, link, meta")) el.remove();
  for (const el of clone.querySelectorAll("*")) {
    for (const attr of [...el.attributes]) {
      if (!KEEP.has(attr.name) && !attr.name.startsWith("aria-")) el.removeAttribute(attr.name);
    }
  }
  const html = clone.outerHTML.replace(/>\s+</g, "><").replace(/\s{2,}/g, " ");
  return { axtree: lines.join("\n"), html };
}
