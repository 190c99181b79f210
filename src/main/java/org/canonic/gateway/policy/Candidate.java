package org.canonic.gateway.policy;

import org.canonic.gateway.fleet.LiveBackend;

/**
 * A backend admitted for a request: its window holds the prompt, and {@code maxTokens} is the completion limit it
 * will be sent (the request's limit, narrowed by the backend's own ceiling and by what its window leaves).
 */
public record Candidate(LiveBackend backend, int maxTokens) {
}
