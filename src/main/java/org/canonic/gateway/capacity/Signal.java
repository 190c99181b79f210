package org.canonic.gateway.capacity;

/** Waiting requests and open requests per serving instance, from the fleet's own counts and vLLM's queue. */
record Signal(double waitingPerInstance, double openPerInstance, int serving) {
}
