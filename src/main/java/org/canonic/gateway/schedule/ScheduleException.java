package org.canonic.gateway.schedule;

/**
 * A schedule request refused, with what the admin API answers: the status, a stable code and the field at fault
 * (null when no single field is). Nothing was changed.
 */
public final class ScheduleException extends RuntimeException {

    public static final String INVALID_JSON = "invalid_json";
    public static final String UNKNOWN_FIELD = "unknown_field";
    public static final String MISSING_FIELD = "missing_field";
    public static final String INVALID = "invalid_value";
    public static final String NOT_FOUND = "schedule_not_found";
    public static final String CONFLICT = "schedule_conflict";
    public static final String FULL = "schedule_full";
    public static final String UNKNOWN_BACKEND = "unknown_backend";
    public static final String TOO_LARGE = "body_too_large";

    private final int status;
    private final String code;
    private final String param;

    public ScheduleException(int status, String code, String param, String message) {
        super(message);
        this.status = status;
        this.code = code;
        this.param = param;
    }

    /** A 400 naming the field at fault (code {@value #INVALID}). */
    public static ScheduleException invalid(String param, String message) {
        return new ScheduleException(400, INVALID, param, message);
    }

    /** A 400 for a required field that is absent or null (code {@value #MISSING_FIELD}). */
    public static ScheduleException missing(String param, String message) {
        return new ScheduleException(400, MISSING_FIELD, param, message);
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
