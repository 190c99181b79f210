package org.canonic.gateway.testing;

import java.util.LinkedHashMap;
import java.util.Map;

/** A scrape of {@code /q/metrics} (on the management interface) in Prometheus text format, with sums over series selected by labels. */
public final class Metrics {

    private final String text;
    private final Map<String, Double> series = new LinkedHashMap<>();

    private Metrics(String text) {
        this.text = text;
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            try {
                series.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
            } catch (NumberFormatException e) {
                // Not a sample line.
            }
        }
    }

    /** {@code management}: a client for the management interface, where /q/metrics is served. */
    public static Metrics scrape(GatewayClient management) {
        return new Metrics(management.get("/q/metrics").body());
    }

    public String text() {
        return text;
    }

    /** Sum of every series of {@code name} whose labels include all of {@code labels} (k1, v1, k2, v2, ...). */
    public double sum(String name, String... labels) {
        double total = 0;
        for (Map.Entry<String, Double> entry : series.entrySet()) {
            String key = entry.getKey();
            if (!(key.equals(name) || key.startsWith(name + "{"))) {
                continue;
            }
            boolean matches = true;
            for (int i = 0; i + 1 < labels.length; i += 2) {
                if (!key.contains(labels[i] + "=\"" + labels[i + 1] + "\"")) {
                    matches = false;
                    break;
                }
            }
            if (matches) {
                total += entry.getValue();
            }
        }
        return total;
    }
}
