package org.canonic.gateway.telemetry;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.SerializedString;

import java.io.IOException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * What makes a ledger line cheap to write: its member names quoted once (a plain name is checked for characters to
 * escape on every write, which had been a third of the line's cost), and timestamps written without a
 * {@code DateTimeFormatter}. The ledger writer shares the gateway's core under load, so its cost per request counts.
 */
final class LedgerJson {

    static final SerializableString REQUEST_ID = name("request_id");
    static final SerializableString STARTED_AT = name("started_at");
    static final SerializableString ENDED_AT = name("ended_at");
    static final SerializableString KEY_ID = name("key_id");
    static final SerializableString ROUTE = name("route");
    static final SerializableString MODEL = name("model");
    static final SerializableString OPERATION = name("operation");
    static final SerializableString STREAM = name("stream");
    static final SerializableString BACKEND = name("backend");
    static final SerializableString ATTEMPTS = name("attempts");
    static final SerializableString TRY = name("try");
    static final SerializableString OUTCOME = name("outcome");
    static final SerializableString FAULT = name("fault");
    static final SerializableString STATUS = name("status");
    static final SerializableString ELAPSED_MS = name("elapsed_ms");
    static final SerializableString TTFT_MS = name("ttft_ms");
    static final SerializableString MAX_TOKENS = name("max_tokens");
    static final SerializableString USAGE = name("usage");
    static final SerializableString PROMPT_TOKENS = name("prompt_tokens");
    static final SerializableString COMPLETION_TOKENS = name("completion_tokens");
    static final SerializableString TOTAL_TOKENS = name("total_tokens");
    static final SerializableString ESTIMATED = name("estimated");
    static final SerializableString FINISH_REASON = name("finish_reason");
    static final SerializableString ERROR_CODE = name("error_code");
    static final SerializableString ROUTING = name("routing");
    static final SerializableString POLICY = name("policy");
    static final SerializableString REASON = name("reason");
    static final SerializableString MATCHED_BLOCKS = name("matched_blocks");
    static final SerializableString PROMPT_BLOCKS = name("prompt_blocks");
    static final SerializableString HEDGE = name("hedge");
    static final SerializableString AFTER_MS = name("after_ms");

    private LedgerJson() {
    }

    private static SerializableString name(String name) {
        return new SerializedString(name);
    }

    static void string(JsonGenerator json, SerializableString name, String value) throws IOException {
        json.writeFieldName(name);
        json.writeString(value);
    }

    static void number(JsonGenerator json, SerializableString name, long value) throws IOException {
        json.writeFieldName(name);
        json.writeNumber(value);
    }

    /**
     * The instant as {@link Instant#toString()} writes it ({@code 2026-12-02T00:51:12.345Z}, no fraction when the
     * milliseconds are zero), for years 0 to 9999; other years go to {@code Instant} itself.
     */
    static String utc(long epochMs) {
        LocalDateTime time = LocalDateTime.ofEpochSecond(Math.floorDiv(epochMs, 1000L), 0, ZoneOffset.UTC);
        int year = time.getYear();
        if (year < 0 || year > 9999) {
            return Instant.ofEpochMilli(epochMs).toString();
        }
        int millis = (int) Math.floorMod(epochMs, 1000L);
        char[] text = new char[millis == 0 ? 20 : 24];
        digits(text, 0, year, 4);
        text[4] = '-';
        digits(text, 5, time.getMonthValue(), 2);
        text[7] = '-';
        digits(text, 8, time.getDayOfMonth(), 2);
        text[10] = 'T';
        digits(text, 11, time.getHour(), 2);
        text[13] = ':';
        digits(text, 14, time.getMinute(), 2);
        text[16] = ':';
        digits(text, 17, time.getSecond(), 2);
        if (millis != 0) {
            text[19] = '.';
            digits(text, 20, millis, 3);
        }
        text[text.length - 1] = 'Z';
        return new String(text);
    }

    private static void digits(char[] text, int at, int value, int width) {
        for (int i = at + width - 1; i >= at; i--) {
            text[i] = (char) ('0' + value % 10);
            value /= 10;
        }
    }
}
