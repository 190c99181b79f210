package org.canonic.gateway.simulator;

import org.canonic.gateway.config.SimulatorConfig;
import org.canonic.gateway.testing.ConfigFixture;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One set of defaults, whether the gateway embeds the simulator or SimulatorMain runs it; ranges checked alike. */
class SimulatorSettingsTest {

    @Test
    void theConfigurationsDefaultsAreTheSimulatorsDefaults() {
        SimulatorConfig config = ConfigFixture.with().build().simulator();
        assertEquals(SimulatorSettings.defaults(config.models()), SimulatorSettings.of(config));
        assertEquals(StepCost.QWEN_7B_A100, SimulatorSettings.of(config).cost());
    }

    @Test
    void settingsAreReadFromTheConfiguration() {
        SimulatorConfig config = ConfigFixture.with("gateway.simulator.kv-blocks", "1024",
                "gateway.simulator.speed-factor", "2.5", "gateway.simulator.stall-rate", "0.1",
                "gateway.simulator.stall-duration", "250", "gateway.simulator.max-num-seqs", "8",
                "gateway.simulator.prefill-micros-per-token", "20").build().simulator();
        SimulatorSettings settings = SimulatorSettings.of(config);
        assertEquals(1024, settings.kvBlocks());
        assertEquals(2.5, settings.cost().speedFactor());
        assertEquals(20, settings.cost().prefillMicrosPerToken());
        assertEquals(0.1, settings.stallRate());
        assertEquals(Duration.ofMillis(250), settings.stallDuration());
        assertEquals(8, settings.maxNumSeqs());
        assertEquals(List.of(), settings.problems("gateway.simulator."));
    }

    @Test
    void valuesOutOfRangeAreNamed() {
        SimulatorSettings settings = SimulatorSettings.defaults(List.of("m")).withKvBlocks(100)
                .withBatch(0, 8192).withStalls(1.5, Duration.ofMillis(-1), 1)
                .withCost(StepCost.QWEN_7B_A100.withSpeedFactor(0));
        List<String> problems = settings.problems("gateway.simulator.");
        assertTrue(problems.contains("gateway.simulator.kv-blocks (100 x 16 tokens) must hold one sequence of "
                + "max-model-len (16384 tokens)"), problems.toString());
        assertTrue(problems.contains("gateway.simulator.max-num-seqs must be at least 1, got 0"), problems.toString());
        assertTrue(problems.contains("gateway.simulator.stall-rate must be between 0 and 1, got 1.5"), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("gateway.simulator.stall-duration")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("gateway.simulator.speed-factor")), problems.toString());
        assertEquals(5, problems.size(), problems.toString());
    }
}
