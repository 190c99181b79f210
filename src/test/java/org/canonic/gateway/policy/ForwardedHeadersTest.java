package org.canonic.gateway.policy;

import io.vertx.core.MultiMap;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ForwardedHeadersTest {

    private static MultiMap headers(String... namesAndValues) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        for (int i = 0; i + 1 < namesAndValues.length; i += 2) {
            headers.add(namesAndValues[i], namesAndValues[i + 1]);
        }
        return headers;
    }

    @Test
    void onlyUserAgentAndTheListedNamesTravel() {
        ForwardedHeaders forwarded = new ForwardedHeaders(List.of("X-Session-Id", " x-title "), 8192);
        MultiMap selected = forwarded.select(headers("User-Agent", "kilo", "x-session-id", "s", "X-Title", "t",
                "authorization", "Bearer k", "x-forwarded-for", "1.2.3.4", "x-padding", "p", "cookie", "c"), "r");
        assertEquals(3, selected.size(), selected.toString());
        assertEquals("kilo", selected.get("user-agent"));
        assertEquals("s", selected.get("x-session-id"));
        assertEquals("t", selected.get("x-title"));
    }

    @Test
    void theForwardedLinesStayWithinTheLimitAndUnprintableValuesAreDropped() {
        ForwardedHeaders forwarded = new ForwardedHeaders(List.of("x-a", "x-b", "x-c"), 40);
        MultiMap selected = forwarded.select(headers("x-a", "a".repeat(20), "x-b", "b".repeat(20), "x-c", "c\u0001"),
                "r");
        assertEquals("a".repeat(20), selected.get("x-a"), "27 bytes fit");
        assertNull(selected.get("x-b"), "27 more would not: dropped, never sent");
        assertNull(selected.get("x-c"), "a control character would fail the upstream request");
    }

    @Test
    void noneForwardsOnlyTheUserAgent() {
        MultiMap selected = new ForwardedHeaders(List.of("none"), 8192).select(headers("user-agent", "u", "x-title",
                "t"), "r");
        assertEquals(1, selected.size());
    }
}
