package org.canonic.gateway.usage;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A usage report as JSON (the API's shape, documented in the README) or as CSV for spreadsheets: one header line,
 * one line per row, the error classes as {@code errors_<class>} columns.
 */
public final class UsageRendering {

    private UsageRendering() {
    }

    /** The JSON answer; {@code withInstances}: the rented instances' spend (the admin view only). */
    public static ObjectNode json(UsageReport report, ObjectMapper mapper, boolean withInstances) {
        ObjectNode answer = mapper.createObjectNode();
        answer.put("object", "usage");
        answer.put("from", Instant.ofEpochMilli(report.fromMs).toString());
        answer.put("to", Instant.ofEpochMilli(report.toMs).toString());
        answer.put("group_by", report.groupBy.label());
        answer.put("output_token_weight", report.pricing.outputWeight());
        var data = answer.putArray("data");
        for (UsageReport.Row row : report.rows) {
            row(data.addObject().put(report.groupBy.label(), row.group()), row);
        }
        row(answer.putObject("total"), report.total);
        if (withInstances) {
            var list = answer.putArray("instances");
            for (UsageReport.InstanceCost cost : report.instances) {
                list.addObject().put("backend", cost.backend())
                        .put("spend_usd", cents(cost.spendCents()))
                        .put("attributed_usd", cents(cost.attributedCents()))
                        .put("unattributed_usd", cents(cost.spendCents() - cost.attributedCents()));
            }
        }
        return answer;
    }

    private static void row(ObjectNode node, UsageReport.Row row) {
        UsageTally t = row.tally;
        node.put("requests", t.requests());
        long errors = t.errors().values().stream().mapToLong(Long::longValue).sum();
        node.put("errors", errors);
        ObjectNode classes = node.putObject("errors_by_class");
        t.errors().forEach(classes::put);
        node.put("input_tokens", t.input());
        node.put("output_tokens", t.output());
        ObjectNode ttft = node.putObject("ttft_ms");
        ttft.put("count", t.ttft().total());
        putMs(ttft, "p50", t.ttft().quantile(0.5));
        putMs(ttft, "p90", t.ttft().quantile(0.9));
        node.put("cost_usd", usd(row.costUsd()));
    }

    private static void putMs(ObjectNode node, String field, double ms) {
        if (ms < 0) {
            node.putNull(field);
        } else {
            node.put(field, Math.round(ms * 10) / 10.0);
        }
    }

    private static BigDecimal cents(long cents) {
        return BigDecimal.valueOf(cents, 2);
    }

    /** Dollars to the millionth: a static price per million tokens costs fractions of a cent per request. */
    private static BigDecimal usd(double usd) {
        return BigDecimal.valueOf(usd).setScale(6, RoundingMode.HALF_EVEN).stripTrailingZeros();
    }

    /** The CSV form: the group column, then the counters; values with a comma or quote are quoted. */
    public static String csv(UsageReport report) {
        TreeSet<String> classes = new TreeSet<>();
        report.rows.forEach(row -> classes.addAll(row.tally.errors().keySet()));
        StringBuilder out = new StringBuilder();
        out.append(report.groupBy.label()).append(",requests,errors");
        classes.forEach(c -> out.append(",errors_").append(c));
        out.append(",input_tokens,output_tokens,ttft_p50_ms,ttft_p90_ms,cost_usd\n");
        for (UsageReport.Row row : report.rows) {
            line(out, row.group(), row, classes);
        }
        return out.toString();
    }

    private static void line(StringBuilder out, String group, UsageReport.Row row, TreeSet<String> classes) {
        UsageTally t = row.tally;
        Map<String, Long> errors = t.errors();
        out.append(quote(group == null ? "" : group)).append(',').append(t.requests()).append(',')
                .append(errors.values().stream().mapToLong(Long::longValue).sum());
        classes.forEach(c -> out.append(',').append(errors.getOrDefault(c, 0L)));
        out.append(',').append(t.input()).append(',').append(t.output());
        for (double q : List.of(0.5, 0.9)) {
            double ms = t.ttft().quantile(q);
            out.append(',').append(ms < 0 ? "" : Double.toString(Math.round(ms * 10) / 10.0));
        }
        out.append(',').append(usd(row.costUsd()).toPlainString()).append('\n');
    }

    /**
     * RFC 4180 quoting, and a leading {@code = + - @} neutralised: a key id or model name must not become a formula
     * in the operator's spreadsheet.
     */
    static String quote(String value) {
        String safe = !value.isEmpty() && "=+-@".indexOf(value.charAt(0)) >= 0 ? "'" + value : value;
        if (safe.contains(",") || safe.contains("\"") || safe.contains("\n") || safe.contains("\r")) {
            return "\"" + safe.replace("\"", "\"\"") + "\"";
        }
        return safe;
    }
}
