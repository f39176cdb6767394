// `quiver/h3`: filled in by the layer that implements it.
export {};
