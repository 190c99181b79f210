package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.schedule.ScheduleEntry;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Scheduled capacity: the minimum a policy keeps right now, raised by its own windows ({@link CapacityWindow}) and by
 * the {@code capacity} entries of the schedule registry naming its recipe ({@code target_kind} {@code recipe},
 * {@code details.min_instances}, 1 when left out). A window counts from the recipe's expected time to ready
 * ({@link TimeToReady}, the longest over the policy's providers; plus a scale-out cooldown per further instance it
 * adds) before it starts, so its instances serve when it opens, until it ends; then the minimum falls back and
 * scale-in follows the idle rules again.
 */
public final class CapacityWindows {

    /** No schedule entries: only the policies' own windows, launched ahead by {@code timeToReady}. */
    public static CapacityWindows own(Duration timeToReady) {
        return new CapacityWindows(List::of, TimeToReady.fixed(timeToReady));
    }

    /**
     * The minimum in force for a policy.
     *
     * @param minInstances the policy's minimum raised by the windows that count now (never above max_instances)
     * @param because      the window that raised it, for decisions and the view; null when none does
     * @param unreadable   why the schedule could not be read (then nothing may be decided); null when it was
     */
    public record Floor(int minInstances, String because, String unreadable) {
    }

    private final Supplier<List<ScheduleEntry>> schedule;
    private final TimeToReady timeToReady;

    /**
     * @param schedule the {@code capacity} entries of the schedule registry (may throw when its store is unreachable)
     */
    public CapacityWindows(Supplier<List<ScheduleEntry>> schedule, TimeToReady timeToReady) {
        this.schedule = schedule;
        this.timeToReady = timeToReady;
    }

    /** The expected time to ready of the policy's slowest provider. */
    Duration timeToReady(CapacityPolicy p) {
        return p.providers().stream().map(provider -> timeToReady.expected(p.recipe(), provider))
                .max(Duration::compareTo).orElse(Duration.ZERO);
    }

    /**
     * How long before a window keeping {@code min} instances the launches start: the time to ready, plus a scale-out
     * cooldown for each instance beyond the first the window adds to the policy's own minimum (below the minimum the
     * controller launches one instance per cooldown), so that the last one too serves when the window opens.
     */
    Duration lead(CapacityPolicy p, int min) {
        int added = Math.min(min, p.maxInstances()) - p.minInstances();
        return timeToReady(p).plus(p.scaleOutCooldown().multipliedBy(Math.max(0, added - 1)));
    }

    /** One window as it stands at an instant: in force, counting ahead of its start, or neither. */
    private record Status(String name, int minInstances, boolean inForce, boolean ahead, Instant start, Instant end,
                          Duration lead, ObjectNode shown) {
        boolean counts() {
            return inForce || ahead;
        }
    }

    public Floor floor(CapacityPolicy p, Instant now) {
        List<Status> statuses;
        try {
            statuses = statuses(p, now);
        } catch (RuntimeException e) {
            return new Floor(p.minInstances(), null, "the schedule could not be read (" + e.getMessage() + ")");
        }
        int min = p.minInstances();
        String because = null;
        for (Status s : statuses) {
            int wanted = Math.min(s.minInstances(), p.maxInstances());
            if (s.counts() && wanted > min) {
                min = wanted;
                because = s.name() + (s.inForce() ? " in force until " + s.end()
                        : " starting " + s.start() + " (launched " + s.lead().toSeconds() + " s ahead)");
            }
        }
        return new Floor(min, because, null);
    }

    private List<Status> statuses(CapacityPolicy p, Instant now) {
        List<Status> all = new java.util.ArrayList<>();
        for (CapacityWindow w : p.windows()) {
            Optional<CapacityWindow.Occurrence> current = w.inForce(now);
            Optional<CapacityWindow.Occurrence> next = w.next(now);
            CapacityWindow.Occurrence shownOne = current.orElse(next.orElse(null));
            Duration lead = lead(p, w.minInstances());
            boolean ahead = current.isEmpty() && next.isPresent() && !now.isBefore(next.get().start().minus(lead));
            String name = "window " + w.days() + " " + w.view().path("from").asText() + "-"
                    + w.view().path("to").asText() + " " + w.zone().getId();
            ObjectNode shown = w.view();
            all.add(new Status(name, w.minInstances(), current.isPresent(), ahead,
                    shownOne == null ? null : shownOne.start(), shownOne == null ? null : shownOne.end(), lead, shown));
        }
        for (ScheduleEntry e : schedule.get()) {
            if (e.kind() != ScheduleEntry.Kind.CAPACITY || e.targetKind() != ScheduleEntry.TargetKind.RECIPE
                    || !e.target().equals(p.recipe()) || !now.isBefore(e.endsAt())) {
                continue;
            }
            Duration lead = lead(p, minInstances(e));
            boolean inForce = !now.isBefore(e.startsAt());
            boolean ahead = !inForce && !now.isBefore(e.startsAt().minus(lead));
            ObjectNode shown = JsonNodeFactory.instance.objectNode();
            shown.put("schedule_id", e.id());
            shown.put("min_instances", minInstances(e));
            all.add(new Status("schedule entry " + e.id(), minInstances(e), inForce, ahead, e.startsAt(),
                    e.endsAt(), lead, shown));
        }
        return all;
    }

    /** A capacity entry's {@code details.min_instances}, 1 when left out (checked when the entry was created). */
    static int minInstances(ScheduleEntry e) {
        JsonNode min = e.details() == null ? null : e.details().get("min_instances");
        return min != null && min.canConvertToInt() ? min.intValue() : 1;
    }

    /**
     * Adds to each policy's row of {@code GET /admin/compute/capacity}: its windows and the schedule's capacity
     * entries for its recipe with their next or current occurrence and whether they count now, the minimum in force
     * ({@code effective_min_instances}) and the window that raised it ({@code window_in_force}).
     */
    void annotate(ObjectNode answer, Collection<CapacityPolicy> policies, Instant now) {
        for (JsonNode row : answer.path("policies")) {
            String recipe = row.path("policy").path("recipe").asText();
            CapacityPolicy p = policies.stream().filter(x -> x.recipe().equals(recipe)).findFirst().orElse(null);
            if (p == null || !(row instanceof ObjectNode target)) {
                continue;
            }
            Floor floor = floor(p, now);
            target.put("effective_min_instances", floor.minInstances());
            target.put("window_in_force", floor.because());
            ArrayNode list = target.putArray("windows");
            try {
                for (Status s : statuses(p, now)) {
                    ObjectNode w = s.shown().deepCopy();
                    w.put("in_force", s.inForce());
                    w.put("launching_ahead", s.ahead());
                    w.put("starts_at", s.start() == null ? null : s.start().toString());
                    w.put("ends_at", s.end() == null ? null : s.end().toString());
                    w.put("lead_seconds", s.lead().toSeconds());
                    list.add(w);
                }
            } catch (RuntimeException e) {
                target.put("windows_unreadable", floor.unreadable());
            }
        }
    }
}
