package org.canonic.gateway.health;

/**
 * What one probe found.
 *
 * @param verdict      the finding
 * @param reason       secret-free explanation ("health answered 503", "serves X, configured Y")
 * @param servedModel  the model id the backend reported, or null
 * @param maxModelLen  the context window the backend reported, or 0 when unknown
 */
public record ProbeResult(Verdict verdict, String reason, String servedModel, int maxModelLen) {

    /**
     * HEALTHY and COLD are good probes; FAILED counts towards DOWN (with hysteresis); DOWN is the backend telling
     * us it is unusable (wrong model, only unhealthy workers), which needs no second opinion.
     */
    public enum Verdict { HEALTHY, COLD, FAILED, DOWN }

    public static ProbeResult healthy(String servedModel, int maxModelLen) {
        return new ProbeResult(Verdict.HEALTHY, "probes pass", servedModel, maxModelLen);
    }

    public static ProbeResult cold(String reason) {
        return new ProbeResult(Verdict.COLD, reason, null, 0);
    }

    public static ProbeResult failed(String reason) {
        return new ProbeResult(Verdict.FAILED, reason, null, 0);
    }

    /** The probe got no answer in time: the backend may be slow, or the gateway itself too busy to hear it. */
    public static ProbeResult timedOut() {
        return new ProbeResult(Verdict.FAILED, TIMED_OUT, null, 0);
    }

    static final String TIMED_OUT = "probe timed out";

    public boolean isTimeout() {
        return verdict == Verdict.FAILED && TIMED_OUT.equals(reason);
    }

    public static ProbeResult down(String reason) {
        return new ProbeResult(Verdict.DOWN, reason, null, 0);
    }

    public static ProbeResult mismatch(String servedModel, String configured) {
        return new ProbeResult(Verdict.DOWN, "model mismatch: serves " + servedModel + ", configured " + configured,
                servedModel, 0);
    }
}
