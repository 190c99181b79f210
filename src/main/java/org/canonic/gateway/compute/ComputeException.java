package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A compute action that failed or was refused, with the HTTP status and OpenAI error code the admin API answers.
 * Messages name the provider and what failed; they never carry an API key: keys are never passed to them, and
 * provider text in them (which may echo a container's command line) is scrubbed by {@link Redaction} here, the one
 * place every such message passes on its way to an admin answer, the log and {@code tracked-instances.jsonl}.
 *
 * <p>{@code ambiguous} marks a failure after which the provider may or may not have acted (a timeout on create):
 * the caller must look the instance up before it tries again.
 */
public class ComputeException extends RuntimeException {

    private final int status;
    private final String code;
    private final transient JsonNode details;
    private final boolean ambiguous;

    public ComputeException(int status, String code, String message) {
        this(status, code, message, null, false);
    }

    public ComputeException(int status, String code, String message, JsonNode details, boolean ambiguous) {
        super(Redaction.scrub(message));
        this.status = status;
        this.code = code;
        this.details = details;
        this.ambiguous = ambiguous;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** Extra facts for the answer (an estimate a confirmation must repeat), or null. */
    public JsonNode details() {
        return details;
    }

    public boolean ambiguous() {
        return ambiguous;
    }
}
