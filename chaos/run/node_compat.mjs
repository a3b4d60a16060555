// Loaded with `node --import` by chaos/run/report.py. Allure 3's quality gate calls
// Iterator.prototype.toArray(), which Node gained in 22; Debian 12 ships Node 20.
const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([].values()));
if (typeof iteratorPrototype.toArray !== "function") {
  Object.defineProperty(iteratorPrototype, "toArray", {
    value: function toArray() { return Array.from(this); },
    writable: true, configurable: true,
  });
}
