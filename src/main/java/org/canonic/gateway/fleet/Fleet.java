package org.canonic.gateway.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.state.StateStoreUnavailable;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The backend registry: owns the live set of backends and the routes' order, and publishes an immutable
 * {@link FleetSnapshot} after every change. Configured backends are loaded at start; backends are registered,
 * changed, drained and deregistered while serving, without touching requests in flight (they keep the snapshot
 * they started with, and a leaving backend is closed only once it has drained).
 *
 * <p>Changes are serialized by one monitor; readers never take it. Registrations are written to the state
 * directory before a change is published: if that write fails, the change is undone and refused.
 */
public final class Fleet {

    private static final Logger LOG = Logger.getLogger(Fleet.class);

    private final FleetServices services;
    private final BackendResolver resolver;
    private final RegistrationStore store;
    private final Map<String, List<String>> aliases;
    private final RouteMembers members;
    private final Map<String, LiveBackend> backends = new LinkedHashMap<>();
    private final Map<String, BackendRegistration> registrations = new LinkedHashMap<>();
    /** Backends that left the fleet and are draining before they close. */
    private final Set<LiveBackend> leaving = ConcurrentHashMap.newKeySet();
    private final String fallback;
    private volatile FleetSnapshot snapshot;
    private long version;
    /** The last shared registry applied, kept while part of it could not be resolved here. */
    private RegistrationStore.Contents lastShared;
    private long lastDrainMs;
    private boolean unresolved;

    public Fleet(FleetPlanner.Plan plan, FleetServices services, BackendResolver resolver, RegistrationStore store) {
        this.services = services;
        this.resolver = resolver;
        this.store = store;
        this.aliases = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(plan.aliases()));
        this.fallback = plan.fallback();
        this.members = new RouteMembers(plan.members());
        plan.backends().forEach((name, spec) -> backends.put(name, new LiveBackend(spec,
                plan.registrations().containsKey(name) ? LiveBackend.Origin.REGISTERED : LiveBackend.Origin.CONFIGURED,
                services)));
        registrations.putAll(plan.registrations());
        publish();
    }

    /** The fleet now: what a request reads, once, when it starts. */
    public FleetSnapshot snapshot() {
        return snapshot;
    }

    /** A backend by name, including one that left the fleet and is still draining. */
    public Optional<LiveBackend> find(String name) {
        LiveBackend live = snapshot.backends().get(name);
        if (live != null) {
            return Optional.of(live);
        }
        return leaving.stream().filter(b -> b.name().equals(name)).findFirst();
    }

    /** Backends that left the fleet and drain before they close. */
    public Collection<LiveBackend> leaving() {
        return List.copyOf(leaving);
    }

    /** The registration of a registered backend (its settings as given, key reference included). */
    public synchronized Optional<BackendRegistration> registration(String name) {
        return Optional.ofNullable(registrations.get(name));
    }

    /**
     * A registration or change checked as far as it can be without the fleet's monitor: its body parsed and its
     * files read (key, certificate), so that a slow or hostile file never holds the monitor, nor a lock its caller
     * holds while it applies the change. Applying it re-checks what depends on the fleet's state.
     */
    public record Prepared(String name, JsonNode body, BackendRegistration current, BackendRegistration registration,
                           Backend spec, List<String> problems) {
    }

    /**
     * Registers a backend the gateway made itself (a rented machine, compute), typed: no JSON to parse, its key and
     * certificate files are its own, wherever its state directory is. It starts PENDING and takes traffic once its
     * probes pass.
     */
    public LiveBackend register(BackendRegistration registration, Long fencing) {
        List<String> problems = new ArrayList<>();
        Backend spec = resolver.resolve(registration.definition(), BackendResolver.apiNaming(), false, problems)
                .orElse(null);
        return register(new Prepared(registration.definition().name(), registration.toJson(), null, registration,
                spec, problems), fencing);
    }

    /**
     * The first half of an admin API registration ({@link #register(Prepared, Long)} is the second): call it outside
     * every lock. Its files must be in the secrets directory.
     */
    public Prepared prepareRegistration(JsonNode body) {
        List<String> problems = new ArrayList<>();
        BackendRegistration registration = BackendRegistration.parse(body, problems);
        if (!problems.isEmpty()) {
            return new Prepared(null, body, null, null, null, problems);
        }
        Backend spec = resolver.resolve(registration.definition(), BackendResolver.apiNaming(), true, problems)
                .orElse(null);
        return new Prepared(registration.definition().name(), body, null, registration, spec, problems);
    }

    /** Registers a prepared backend; it starts PENDING and takes traffic once its probes pass. */
    public synchronized LiveBackend register(Prepared prepared, Long fencing) {
        BackendRegistration registration = prepared.registration();
        List<String> problems = new ArrayList<>(prepared.problems());
        if (registration == null) {
            throw FleetException.invalid(problems);
        }
        Backend spec = prepared.spec();
        String name = registration.definition().name();
        if (backends.containsKey(name) || leaving.stream().anyMatch(b -> b.name().equals(name))) {
            throw new FleetException(409, "backend_exists", "A backend named '" + name + "' already exists"
                    + (backends.containsKey(name) ? "" : " (it is still draining out)") + "; choose another name.");
        }
        members.check(registration, problems);
        if (!problems.isEmpty()) {
            throw FleetException.invalid(problems);
        }
        Map<String, List<String>> before = members.copy();
        LiveBackend live = new LiveBackend(spec, LiveBackend.Origin.REGISTERED, services);
        backends.put(name, live);
        registrations.put(name, registration);
        members.join(name, registration.routes());
        try {
            persist();
        } catch (IOException e) {
            backends.remove(name);
            registrations.remove(name);
            members.restore(before);
            live.close();
            throw FleetException.unpersisted(e);
        }
        publish();
        LOG.infof("Backend %s registered (%s, model %s) on routes %s", name, spec.endpoint().origin(), spec.model(),
                registration.routes().stream().map(BackendRegistration.Membership::route).toList());
        services.events().publish("backend.registered", FleetEvents.data(name, fencing, "routes",
                registration.routes().stream().map(BackendRegistration.Membership::route).toList()));
        return live;
    }

    /** Changes a registered backend's route membership, order, limits, clocks, tries or key reference. */
    public LiveBackend change(String name, JsonNode body, Long fencing) {
        return change(prepareChange(name, body), fencing);
    }

    /** The first half of {@link #change(String, JsonNode, Long)}: call it outside every lock. */
    public Prepared prepareChange(String name, JsonNode body) {
        BackendRegistration current;
        synchronized (this) {
            registered(name);
            current = registrations.get(name);
        }
        List<String> problems = new ArrayList<>();
        BackendRegistration changed = current.patched(body, problems);
        Backend spec = problems.isEmpty()
                ? resolver.resolve(changed.definition(), BackendResolver.apiNaming(), problems).orElse(null)
                : null;
        return new Prepared(name, body, current, changed, spec, problems);
    }

    /** Applies a prepared change; 409 if the backend changed since it was prepared. */
    public synchronized LiveBackend change(Prepared prepared, Long fencing) {
        String name = prepared.name();
        JsonNode body = prepared.body();
        BackendRegistration current = prepared.current();
        BackendRegistration changed = prepared.registration();
        Backend spec = prepared.spec();
        List<String> problems = new ArrayList<>(prepared.problems());
        LiveBackend live = registered(name);
        if (registrations.get(name) != current) {
            throw new FleetException(409, "backend_changed", "Backend '" + name + "' changed while this change was "
                    + "checked; read it again and retry.");
        }
        if (problems.isEmpty()) {
            members.check(changed, problems);
        }
        if (!problems.isEmpty()) {
            throw FleetException.invalid(problems);
        }
        Map<String, List<String>> before = members.copy();
        registrations.put(name, changed);
        if (body.has("routes")) {
            members.leave(name);
            members.join(name, changed.routes());
        }
        try {
            persist();
        } catch (IOException e) {
            registrations.put(name, current);
            members.restore(before);
            throw FleetException.unpersisted(e);
        }
        live.update(spec);
        publish();
        LOG.infof("Backend %s changed", name);
        List<String> fields = new ArrayList<>();
        body.fieldNames().forEachRemaining(fields::add);
        services.events().publish("backend.changed", FleetEvents.data(name, fencing, "changed", fields));
        return live;
    }

    /**
     * Takes a registered backend out of the fleet: no new request reaches it at once; it drains (requests in flight
     * finish, up to {@code deadlineMs}) and is then closed.
     */
    public synchronized LiveBackend deregister(String name, long deadlineMs, Long fencing) {
        LiveBackend live = registered(name);
        Map<String, List<String>> before = members.copy();
        BackendRegistration registration = registrations.remove(name);
        backends.remove(name);
        members.leave(name);
        try {
            persist();
        } catch (IOException e) {
            registrations.put(name, registration);
            backends.put(name, live);
            members.restore(before);
            throw FleetException.unpersisted(e);
        }
        leaving.add(live);
        publish();
        LOG.infof("Backend %s deregistered; draining before it closes", name);
        services.events().publish("backend.deregistered", FleetEvents.data(name, fencing));
        live.drain(deadlineMs, () -> {
            live.close();
            leaving.remove(live);
            LOG.infof("Backend %s closed", name);
        });
        return live;
    }

    /** Stops new requests to a backend (configured or registered); those in flight finish. */
    public LiveBackend drain(String name, long deadlineMs) {
        LiveBackend live = snapshot.backends().get(name);
        if (live == null) {
            throw FleetException.notFound(name);
        }
        live.drain(deadlineMs, () -> {
        });
        return live;
    }

    /** Puts a drained (or draining) backend back into service. */
    public LiveBackend undrain(String name) {
        LiveBackend live = snapshot.backends().get(name);
        if (live == null) {
            throw FleetException.notFound(name);
        }
        if (!live.undrain()) {
            throw new FleetException(409, "not_draining", "Backend '" + name + "' is not draining.");
        }
        return live;
    }

    /**
     * Makes this replica's registered backends what the shared store holds (another replica changed them): new ones
     * join (PENDING until probed), gone ones leave and drain for up to {@code drainMs}, changed ones take their new
     * settings (a new URL, model or probe makes a new backend), and the routes take the shared order. Nothing is
     * stored or announced again: the replica that made the change did both. A registration this replica cannot
     * resolve (its key reference is not set here) is left out with an ERROR.
     */
    public synchronized void applyShared(RegistrationStore.Contents shared, long drainMs) {
        lastShared = shared;
        lastDrainMs = drainMs;
        unresolved = false;
        Map<String, BackendRegistration> wanted = new LinkedHashMap<>();
        shared.backends().forEach(r -> wanted.put(r.definition().name(), r));
        boolean changed = false;
        for (String name : List.copyOf(registrations.keySet())) {
            BackendRegistration now = wanted.get(name);
            if (now == null || !registrations.get(name).sameSource(now)) {
                LiveBackend live = backends.remove(name);
                registrations.remove(name);
                leaving.add(live);
                live.drain(drainMs, () -> {
                    live.close();
                    leaving.remove(live);
                });
                changed = true;
                LOG.infof("Backend %s %s on another replica", name, now == null ? "deregistered" : "replaced");
            } else if (!now.toJson().equals(registrations.get(name).toJson())) {
                resolved(now).ifPresent(spec -> {
                    backends.get(name).update(spec);
                    registrations.put(name, now);
                });
                changed = true;
            }
        }
        for (BackendRegistration registration : wanted.values()) {
            String name = registration.definition().name();
            if (registrations.containsKey(name)) {
                continue;
            }
            if (backends.containsKey(name)) {
                LOG.errorf("Backend %s registered on another replica has the name of a configured backend here; "
                        + "left out", name);
                continue;
            }
            Optional<Backend> spec = resolved(registration);
            if (spec.isPresent()) {
                // A predecessor of the same name may still drain here: the name's meters pass to the successor.
                leaving.stream().filter(b -> b.name().equals(name)).forEach(LiveBackend::yieldMeters);
                backends.put(name, new LiveBackend(spec.get(), LiveBackend.Origin.REGISTERED, services));
                registrations.put(name, registration);
                changed = true;
                LOG.infof("Backend %s registered on another replica joins this one", name);
            }
        }
        Map<String, List<String>> order = new LinkedHashMap<>();
        members.view().forEach((route, names) -> order.put(route, new ArrayList<>(names.stream()
                .filter(n -> backends.containsKey(n) && backends.get(n).origin() == LiveBackend.Origin.CONFIGURED)
                .toList())));
        FleetPlanner.restoreOrder(order, shared.routeOrder(), registrations);
        if (changed || !order.equals(members.view())) {
            members.restore(order);
            publish();
        }
    }

    /**
     * Re-reads the shared registry and applies it (or stores this replica's registrations again if the store lost
     * them), under this fleet's monitor: no change of this replica can fall between the read and its application,
     * so the version the store compares the next change against is the one this fleet shows.
     */
    public synchronized void syncShared(long drainMs) {
        List<String> unreadable = new ArrayList<>();
        RegistrationStore.Contents contents = store.load(unreadable);
        unreadable.forEach(problem -> LOG.errorf("Shared registrations: %s", problem));
        if (store.lost()) {
            storeAgain();
        } else {
            applyShared(contents, drainMs);
        }
    }

    /** Applies the last shared registry again if part of it could not be used here (a key may have come since). */
    public synchronized void retryShared() {
        if (unresolved && lastShared != null) {
            applyShared(lastShared, lastDrainMs);
        }
    }

    /** Stores this replica's registrations again (the shared store lost them); a failure is only logged. */
    public synchronized void storeAgain() {
        try {
            persist();
            LOG.warnf("The shared state store had lost the registrations; stored these %d again", registrations.size());
        } catch (IOException e) {
            LOG.errorf("Could not store the registrations again: %s", e.getMessage());
        }
    }

    private Optional<Backend> resolved(BackendRegistration registration) {
        List<String> problems = new ArrayList<>();
        Optional<Backend> spec = resolver.resolve(registration.definition(), BackendResolver.apiNaming(), problems);
        if (!problems.isEmpty()) {
            unresolved = true;
            LOG.errorf("Backend %s registered on another replica cannot be used here: %s",
                    registration.definition().name(), String.join("; ", problems));
            return Optional.empty();
        }
        return spec;
    }

    /** Closes every backend (the process is stopping). */
    public synchronized void close() {
        backends.values().forEach(LiveBackend::close);
        leaving.forEach(LiveBackend::close);
    }

    private LiveBackend registered(String name) {
        LiveBackend live = backends.get(name);
        if (live == null) {
            throw FleetException.notFound(name);
        }
        if (live.origin() != LiveBackend.Origin.REGISTERED) {
            throw new FleetException(409, "backend_configured", "Backend '" + name + "' comes from configuration"
                    + " (gateway.backends." + name + ".*); change the configuration instead, or drain it.");
        }
        return live;
    }

    /** Stores the registry; a shared store's refusal or silence is reported as an IOException carrying it. */
    private void persist() throws IOException {
        try {
            store.save(List.copyOf(registrations.values()), members.view());
        } catch (StateStoreUnavailable | FleetException e) {
            // Carried as an IOException so that every caller's undo path runs; FleetException.unpersisted answers with it.
            throw new IOException(e.getMessage(), e);
        }
    }

    private void publish() {
        Map<String, List<LiveBackend>> live = new LinkedHashMap<>();
        members.view().forEach((route, names) -> live.put(route, names.stream().map(backends::get).toList()));
        snapshot = new FleetSnapshot(++version, FleetSnapshot.routes(aliases, live), backends,
                fallback == null ? null : backends.get(fallback));
    }

}
