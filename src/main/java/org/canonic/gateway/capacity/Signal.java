package org.canonic.gateway.capacity;

/**
 * Waiting requests and open requests per serving instance, from the fleet's own counts and vLLM's queue, and the TTFT
 * p90 of the first tokens the instances streamed since the last look ({@code NaN}: none came).
 */
record Signal(double waitingPerInstance, double openPerInstance, int serving, double ttftP90Ms) {

    Signal(double waitingPerInstance, double openPerInstance, int serving) {
        this(waitingPerInstance, openPerInstance, serving, Double.NaN);
    }

    Signal withTtftP90Ms(double ms) {
        return new Signal(waitingPerInstance, openPerInstance, serving, ms);
    }
}
