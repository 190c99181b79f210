package org.canonic.gateway.simulator;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's benchmark command, as a benchmark script runs it: the packaged application's class path, no Quarkus,
 * the printed lines read from standard output, SIGTERM to stop it.
 */
class SimulatorMainIT {

    private static final String CLASS_PATH = "target/quarkus-app/app/*:target/quarkus-app/lib/main/*"
            + ":target/quarkus-app/lib/boot/*";

    private static ProcessBuilder command(String... options) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", CLASS_PATH, SimulatorMain.class.getName()));
        command.addAll(List.of(options));
        return new ProcessBuilder(command);
    }

    @Test
    void twoReplicasStartFromThePackagedClassPathAnswerAndStopCleanlyOnSigterm() throws Exception {
        Process simulator = command("--replicas", "2", "--speed", "1,2")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(simulator.getInputStream(),
                    StandardCharsets.UTF_8));
            List<String> urls = new ArrayList<>();
            for (String line = out.readLine(); !"READY".equals(line); line = out.readLine()) {
                assertTrue(line != null && line.matches("replica \\d http://127\\.0\\.0\\.1:\\d+/v1"), line);
                urls.add(line.substring(line.indexOf("http")));
            }
            assertEquals(2, urls.size());
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            for (String url : urls) {
                HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(url + "/chat/completions"))
                        .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(
                                "{\"model\":\"" + SimulatorSettings.DEFAULT_MODEL + "\",\"max_tokens\":5,"
                                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, answer.statusCode(), answer.body());
            }
            simulator.destroy();
            assertTrue(simulator.waitFor(10, TimeUnit.SECONDS), "it stops on SIGTERM");
            assertEquals(0, simulator.exitValue());
        } finally {
            simulator.destroyForcibly();
        }
    }

    @Test
    void aBadOptionPrintsTheUsageAndExitsWithStatusTwo() throws Exception {
        Process simulator = command("--replicas", "many").start();
        String errors = new String(simulator.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(simulator.waitFor(30, TimeUnit.SECONDS));
        assertTrue(errors.contains("--replicas needs a whole number") && errors.contains("usage: SimulatorMain"),
                errors);
        assertEquals(2, simulator.exitValue());
        assertEquals("", new String(simulator.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                "standard output stays for the replica lines");
    }
}
