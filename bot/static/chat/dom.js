/* Building the page safely: text is set as text, never as HTML; only http(s) and blob: images. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

export function safeImageUrl(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const u = new URL(url, window.location.href);
    return (u.protocol === "http:" || u.protocol === "https:" || u.protocol === "blob:") ? u.href : null;
  } catch (e) {
    return null;
  }
}
