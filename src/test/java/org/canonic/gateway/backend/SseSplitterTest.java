package org.canonic.gateway.backend;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SseSplitterTest {

    private final List<String> events = new ArrayList<>();
    private final List<SseEvents.Kind> kinds = new ArrayList<>();
    private final SseSplitter splitter = new SseSplitter(64);

    private boolean feed(String chunk) {
        return splitter.feed(Buffer.buffer(chunk), (buffer, bytes, start, contentEnd, end) -> {
            events.add(buffer.getString(start, end));
            kinds.add(SseEvents.classify(buffer, start, contentEnd));
        });
    }

    @Test
    void wholeEventsInOneChunkAreEmittedWithTheirDelimiters() {
        feed("data: {\"a\":1}\n\ndata: [DONE]\n\n");
        assertEquals(List.of("data: {\"a\":1}\n\n", "data: [DONE]\n\n"), events);
        assertEquals(List.of(SseEvents.Kind.DATA, SseEvents.Kind.DONE), kinds);
        assertFalse(splitter.hasPartialEvent());
    }

    @Test
    void eventsSplitAnywhereAcrossChunksAreReassembled() {
        String stream = "data: {\"a\":1}\n\n: keep\n\ndata: [DONE]\r\n\r\n";
        for (int cut = 1; cut < stream.length(); cut++) {
            events.clear();
            kinds.clear();
            SseSplitter fresh = new SseSplitter(1024);
            for (String part : new String[]{stream.substring(0, cut), stream.substring(cut)}) {
                fresh.feed(Buffer.buffer(part), (buffer, bytes, start, contentEnd, end) -> {
                    events.add(buffer.getString(start, end));
                    kinds.add(SseEvents.classify(buffer, start, contentEnd));
                });
            }
            assertEquals(3, events.size(), "cut at " + cut + ": " + events);
            assertEquals(List.of(SseEvents.Kind.DATA, SseEvents.Kind.COMMENT, SseEvents.Kind.DONE), kinds);
        }
    }

    @Test
    void usageErrorAndDoneChunksAreRecognisedWithoutParsing() {
        feed("data: {\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\n\n"
                + "data: {\"error\":{\"message\":\"boom\"}}\n\n"
                + "data:[DONE]\n\n"
                + "event: ping\n\n");
        assertEquals(List.of(SseEvents.Kind.USAGE, SseEvents.Kind.ERROR, SseEvents.Kind.DONE, SseEvents.Kind.OTHER),
                kinds);
    }

    @Test
    void aContentChunkThatMentionsUsageIsStillData() {
        feed("data: {\"choices\":[{\"delta\":{\"content\":\"\\\"usage\\\":{\"}}]}\n\n");
        assertEquals(List.of(SseEvents.Kind.DATA), kinds);
    }

    @Test
    void bytesWithoutAnEventBoundaryBeyondTheLimitAreMalformed() {
        assertTrue(feed("data: " + "x".repeat(40)));
        assertFalse(feed("x".repeat(40)), "over 64 bytes without a blank line");
    }
}
