"""The route handlers, one module per resource: each takes a `Request` (and the route's path
parameters) and returns a `caching.Body`, which the caching layer makes into the response."""
