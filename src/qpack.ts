// `quiver/qpack`: filled in by the layer that implements it.
export {};
