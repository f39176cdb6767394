// `quiver/server`: filled in by the layer that implements it.
export {};
