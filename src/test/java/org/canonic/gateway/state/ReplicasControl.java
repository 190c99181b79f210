package org.canonic.gateway.state;

/** Lets tests in other packages stop a {@link Replicas} as the shutdown would (its stop is the CDI observer). */
public final class ReplicasControl {

    private ReplicasControl() {
    }

    public static void stop(Replicas replicas) {
        replicas.stop(null);
    }
}
