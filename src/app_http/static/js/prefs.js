// The only things kept in localStorage: preferences (never a token).
const PREFIX = "chatcore.";

export function getPref(name, fallback = null) {
  try {
    const value = localStorage.getItem(PREFIX + name);
    return value === null ? fallback : value;
  } catch {
    return fallback; // storage disabled: preferences just don't persist
  }
}

export function setPref(name, value) {
  try {
    localStorage.setItem(PREFIX + name, String(value));
  } catch {
    // storage disabled
  }
}
