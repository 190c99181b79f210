package org.canonic.gateway.policy;

/**
 * One check of the fail-closed chain. A filter refuses by throwing {@link Refusal}; any other exception also
 * refuses the request (the chain treats "could not decide" as "no").
 */
public interface PolicyFilter {

    void check(PolicyContext request);
}
