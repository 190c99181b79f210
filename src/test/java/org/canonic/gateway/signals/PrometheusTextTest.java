package org.canonic.gateway.signals;

import org.canonic.gateway.testing.FakeVllm;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The metrics page reader on vLLM's own output, its older shape, data-parallel engines, and garbage. */
class PrometheusTextTest {

    @Test
    void readsTheSignalsOfAVllmV1Page() throws Exception {
        VllmSignals signals = VllmSignals.of(PrometheusText.read(FakeVllm.vllmMetrics(7, 3, 0.95, 4096, 3072),
                VllmSignals.FAMILIES), 42);
        assertNotNull(signals);
        assertEquals(7, signals.running());
        assertEquals(3, signals.waiting());
        assertEquals(0.95, signals.kvCacheUsage(), 1e-9);
        assertEquals(4096, signals.prefixQueries(), 1e-9);
        assertEquals(3072, signals.prefixHits(), 1e-9);
        assertEquals(42, signals.atNanos());
    }

    @Test
    void dataParallelEnginesAddUpAndTheFullestCacheCounts() throws Exception {
        String page = """
                # TYPE vllm:num_requests_running gauge
                vllm:num_requests_running{engine="0",model_name="m"} 4.0
                vllm:num_requests_running{engine="1",model_name="m"} 5.0
                vllm:num_requests_waiting{engine="0",model_name="m"} 1.0
                vllm:num_requests_waiting{engine="1",model_name="m"} 0.0
                vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.25
                vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.5
                """;
        VllmSignals signals = VllmSignals.of(PrometheusText.read(page, VllmSignals.FAMILIES), 0);
        assertEquals(9, signals.running());
        assertEquals(1, signals.waiting());
        assertEquals(0.5, signals.kvCacheUsage(), 1e-9);
        assertTrue(Double.isNaN(signals.prefixQueries()), "no prefix counters on this page");
    }

    @Test
    void readsTheOlderGpuCacheGaugeLabelEscapesTimestampsAndSpecialValues() throws Exception {
        String page = "# HELP vllm:gpu_cache_usage_perc GPU KV-cache usage. 1 means 100 percent usage.\n"
                + "# TYPE vllm:gpu_cache_usage_perc gauge\r\n"
                + "vllm:gpu_cache_usage_perc{model_name=\"a \\\"quoted\\\" {name}\\\\\"} 0.125 1700000000000\r\n"
                + "vllm:num_requests_running{model_name=\"x\"} 2\n"
                + "vllm:num_requests_waiting{model_name=\"x\"} NaN\n"
                + "vllm:request_queue_time_seconds_bucket{le=\"+Inf\"} +Inf\n";
        Map<String, PrometheusText.Aggregate> read = PrometheusText.read(page, VllmSignals.FAMILIES);
        assertEquals(0.125, read.get("vllm:gpu_cache_usage_perc").sum(), 1e-9);
        assertTrue(Double.isNaN(read.get("vllm:num_requests_waiting").sum()));
        assertNull(VllmSignals.of(read, 0), "a queue gauge that is not a number tells nothing");
        assertEquals(0.125, VllmSignals.of(PrometheusText.read(page.replace("NaN", "0"), VllmSignals.FAMILIES), 0)
                .kvCacheUsage(), 1e-9);
    }

    @Test
    void aPageWithoutQueueGaugesGivesNoSignals() throws Exception {
        assertNull(VllmSignals.of(PrometheusText.read("<html><body>502 Bad Gateway</body></html>",
                VllmSignals.FAMILIES), 0));
        assertNull(VllmSignals.of(PrometheusText.read("{\"error\":\"not here\"}", VllmSignals.FAMILIES), 0));
        assertNull(VllmSignals.of(PrometheusText.read("process_open_fds 42\n", VllmSignals.FAMILIES), 0));
    }

    @Test
    void aWantedLineThatDoesNotParseMakesThePageMalformed() {
        assertThrows(PrometheusText.Malformed.class, () -> PrometheusText.read(
                "vllm:num_requests_running{engine=\"0\"} lots\n", VllmSignals.FAMILIES));
        assertThrows(PrometheusText.Malformed.class, () -> PrometheusText.read(
                "vllm:num_requests_running{engine=\"0\" 1\n", VllmSignals.FAMILIES));
        assertThrows(PrometheusText.Malformed.class, () -> PrometheusText.read(
                "vllm:num_requests_waiting\n", VllmSignals.FAMILIES));
    }

    @Test
    void unwantedFamiliesAreSkippedWhateverTheyHold() throws Exception {
        Map<String, PrometheusText.Aggregate> read = PrometheusText.read(
                "some_metric{a=\"unterminated} garbage\nvllm:num_requests_running 3\n", Set.of(
                        "vllm:num_requests_running"));
        assertEquals(3, read.get("vllm:num_requests_running").sum(), 1e-9);
    }

    @Test
    void theHitRatioIsTakenBetweenTwoReadings() {
        VllmSignals before = new VllmSignals(0, 0, 0, 1000, 400, 0);
        VllmSignals after = new VllmSignals(0, 0, 0, 2000, 1300, 1);
        assertEquals(0.9, after.prefixHitRatio(before), 1e-9);
        assertTrue(Double.isNaN(before.prefixHitRatio(after)), "counters that went back (a restart) say nothing");
        assertTrue(Double.isNaN(after.prefixHitRatio(null)));
    }
}
