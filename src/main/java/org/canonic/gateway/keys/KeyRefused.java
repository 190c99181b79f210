package org.canonic.gateway.keys;

/** A refused key change (bad id or routes, an id taken, a key that is not the admin API's): status and OpenAI code. */
public final class KeyRefused extends RuntimeException {
    private final int status;
    private final String code;
    private final String param;

    public KeyRefused(int status, String code, String param, String message) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.param = param;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public String param() {
        return param;
    }
}
