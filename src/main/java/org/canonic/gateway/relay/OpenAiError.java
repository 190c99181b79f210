package org.canonic.gateway.relay;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/**
 * An error in the shape every OpenAI client understands: {@code {"error":{"message","type","param","code"}}}.
 *
 * @param status  HTTP status that goes with it when it can still be chosen
 * @param message what happened and, where possible, what to do next; never a secret or a backend URL
 * @param type    OpenAI error type ({@code invalid_request_error}, {@code server_error}, ...)
 * @param param   the request field at fault, or null
 * @param code    a stable machine-readable code, or null
 */
public record OpenAiError(int status, String message, String type, String param, String code) {

    private static final JsonFactory JSON = new JsonFactory();

    public static OpenAiError invalidRequest(int status, String message, String param, String code) {
        return new OpenAiError(status, message, "invalid_request_error", param, code);
    }

    public static OpenAiError server(int status, String message, String code) {
        return new OpenAiError(status, message, "server_error", null, code);
    }

    /**
     * A string a client sent, fit to quote in a message or a record: at most {@code maxChars} characters (then
     * {@code ...}), control characters replaced, so that nobody can forge log lines or flood an answer with it.
     */
    public static String echo(String value, int maxChars) {
        String bounded = value.length() > maxChars ? value.substring(0, maxChars) + "..." : value;
        return bounded.replaceAll("\\p{Cntrl}", "?");
    }

    /** The JSON document {@code {"error":{...}}}. */
    public String toJson() {
        StringWriter out = new StringWriter(128 + message.length());
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            json.writeObjectFieldStart("error");
            json.writeStringField("message", message);
            json.writeStringField("type", type);
            json.writeStringField("param", param);
            json.writeStringField("code", code);
            json.writeEndObject();
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    public Buffer toBuffer() {
        return Buffer.buffer(toJson());
    }

    /** The same error as an SSE event, for failures after the status line went out. */
    public Buffer toEvent() {
        return Buffer.buffer("data: " + toJson() + "\n\n");
    }
}
