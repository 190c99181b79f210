package org.canonic.gateway;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packages of the gateway form a directed acyclic graph: data flows one way through the stages of the request
 * path, and no stage reaches back up. Read from the sources (imports and fully qualified names), so a new cycle fails
 * this test with the cycle spelled out.
 */
class PackageGraphTest {

    private static final Path SOURCES = Path.of("src/main/java/org/canonic/gateway");
    private static final Pattern REFERENCE = Pattern.compile("org\\.canonic\\.gateway\\.([a-z]+)\\.[A-Za-z]");

    static Map<String, Set<String>> graph(Path root) throws IOException {
        Map<String, Set<String>> graph = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                Path relative = root.relativize(file.getParent());
                String from = relative.toString().isEmpty() ? "(root)" : relative.toString().replace('/', '.');
                Set<String> edges = graph.computeIfAbsent(from, k -> new LinkedHashSet<>());
                Matcher matcher = REFERENCE.matcher(Files.readString(file));
                while (matcher.find()) {
                    if (!matcher.group(1).equals(from)) {
                        edges.add(matcher.group(1));
                    }
                }
            }
        }
        return graph;
    }

    /** A cycle as a list of packages (first = last), or an empty list. */
    static List<String> findCycle(Map<String, Set<String>> graph) {
        Map<String, Integer> state = new TreeMap<>();
        for (String start : graph.keySet()) {
            List<String> path = new ArrayList<>();
            List<String> cycle = visit(start, graph, state, path);
            if (!cycle.isEmpty()) {
                return cycle;
            }
        }
        return List.of();
    }

    private static List<String> visit(String node, Map<String, Set<String>> graph, Map<String, Integer> state,
                                      List<String> path) {
        Integer seen = state.get(node);
        if (seen != null && seen == 2) {
            return List.of();
        }
        if (seen != null && seen == 1) {
            List<String> cycle = new ArrayList<>(path.subList(path.indexOf(node), path.size()));
            cycle.add(node);
            return cycle;
        }
        state.put(node, 1);
        path.add(node);
        for (String next : graph.getOrDefault(node, Set.of())) {
            List<String> cycle = visit(next, graph, state, path);
            if (!cycle.isEmpty()) {
                return cycle;
            }
        }
        path.remove(path.size() - 1);
        state.put(node, 2);
        return List.of();
    }

    @Test
    void thePackageGraphHasNoCycle() throws IOException {
        Map<String, Set<String>> graph = graph(SOURCES);
        assertTrue(graph.size() > 8, "the sources were found: " + graph.keySet());
        assertEquals(List.of(), findCycle(graph), "package cycle; the graph is " + graph);
    }

    @Test
    void aCycleIsFound() {
        Map<String, Set<String>> graph = new TreeMap<>(Map.of(
                "api", Set.of("policy"), "policy", Set.of("fleet"), "fleet", Set.of("health"),
                "health", Set.of("policy")));
        assertEquals(List.of("policy", "fleet", "health", "policy"), findCycle(graph));
    }
}
