package org.canonic.gateway.keys;

import io.vertx.core.Vertx;
import org.canonic.gateway.config.GuardConfig;
import org.canonic.gateway.policy.ClientKeys;
import org.canonic.gateway.policy.KeyLoader;
import org.canonic.gateway.policy.KeyRing;
import org.canonic.gateway.state.StateStoreUnavailable;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Every client key the gateway accepts, kept current while it runs: the keys of {@code GATEWAY_API_KEYS} (fixed), of
 * {@code GATEWAY_API_KEYS_FILE} (re-read when its modification time, size or identity changes, checked every
 * {@code gateway.auth.reload-interval}, and on {@code SIGHUP}) and the keys made through {@code POST /admin/keys}
 * (re-read from the {@link IssuedKeyStore} when another replica announces a change, or its version moved). The key
 * check reads {@link #current()} for every request; a key removed from any source is refused from the next request on,
 * while requests admitted before finish.
 *
 * <p>A key file that cannot be read (missing for a moment while it is replaced, not a regular file, too large) keeps
 * the keys read last, with an error in the log: removing a key is done by removing its line. Lines that cannot be read
 * are skipped (and logged without their key); the others apply.
 */
public final class ClientKeyRegistry implements KeyRing {

    private static final Logger LOG = Logger.getLogger(ClientKeyRegistry.class);
    /** A key file larger than this is not a key file (and must not be read into memory). */
    static final long MAX_FILE_BYTES = 1 << 20;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Where a key comes from. */
    public enum Source {
        ENV, FILE, ADMIN
    }

    /** What the admin API shows of a key: never the key, never its digest. */
    public record View(String id, Source source, List<String> routes, Instant created, Instant lastUsed) {
    }

    /** A key just made: its view, and the key itself, which is shown once and kept nowhere. */
    public record Created(View view, String key) {
    }

    private record FileStamp(long modified, long size, Object identity) {
    }

    private final List<ClientKeys.Entry> environment;
    private final Optional<Path> file;
    private final IssuedKeyStore store;
    private final boolean required;
    private final long intervalMs;
    private final LastUses lastUses;
    private final AtomicBoolean checking = new AtomicBoolean();
    /** A re-read of the file was asked for ({@code SIGHUP}) and not yet done. */
    private final AtomicBoolean rereadAsked = new AtomicBoolean();
    private volatile ClientKeys current = ClientKeys.of(List.of());
    private List<ClientKeys.Entry> fileEntries = List.of();
    private FileStamp fileStamp;
    private volatile IssuedKeyStore.Contents issued;
    private List<IssuedKey> acceptedIssued = List.of();
    private Vertx vertx;
    private long timer = -1;
    private HangUp hangUp;
    private volatile boolean storeReachable = true;

    /** Reads every source; problems (a bad entry, an unreadable file, no key at all) go to {@code problems}. */
    public ClientKeyRegistry(GuardConfig.Auth auth, IssuedKeyStore store, List<String> problems) {
        this.store = store;
        this.lastUses = new LastUses(store);
        this.required = KeyLoader.required(auth);
        this.intervalMs = auth.reloadInterval().toMillis();
        if (intervalMs < 100 || intervalMs > 300_000) {
            problems.add("gateway.auth.reload-interval must lie between 100ms and 5m, got " + auth.reloadInterval());
        }
        this.environment = List.copyOf(KeyLoader.fromEnvironment(auth, new HashSet<>(), problems));
        this.file = KeyLoader.file(auth);
        file.ifPresent(path -> {
            try {
                fileStamp = stamp(path);
                fileEntries = readFile(path, problems);
            } catch (IOException e) {
                problems.add("GATEWAY_API_KEYS_FILE " + path + " cannot be read (" + describe(e) + ")");
            }
        });
        this.issued = store.load();
        rebuild(problems);
        KeyLoader.checkMode(auth, current.size() > 0, problems);
    }

    @Override
    public ClientKeys current() {
        return current;
    }

    @Override
    public void used(String keyId) {
        lastUses.note(keyId);
    }

    /** Checks the key file and the store every reload interval, and re-reads the file on {@code SIGHUP}. */
    public void start(Vertx vertx) {
        this.vertx = vertx;
        timer = vertx.setPeriodic(intervalMs, id -> checkSoon(false));
        hangUp = HangUp.install(() -> checkSoon(true));
        LOG.infof("Client keys: %d accepted (%d from GATEWAY_API_KEYS, %d from the key file, %d made through the "
                        + "admin API, kept in %s); the key file is re-read when it changes%s", current.size(),
                environment.size(), fileEntries.size(), acceptedIssued.size(), store.where(),
                hangUp != null ? " and on SIGHUP" : "");
    }

    /**
     * One check at a time. A re-read asked for ({@code SIGHUP}) while a check runs is not dropped: the flag stays
     * up and the running check (or the next one started here) reads the file again.
     */
    private void checkSoon(boolean forced) {
        if (forced) {
            rereadAsked.set(true);
        }
        if (vertx == null || !checking.compareAndSet(false, true)) {
            return;
        }
        vertx.executeBlocking(() -> {
            try {
                do {
                    check(rereadAsked.getAndSet(false));
                } while (rereadAsked.get());
            } catch (RuntimeException e) {
                LOG.warnf("Client keys could not be checked for changes: %s", e.toString());
            } finally {
                checking.set(false);
            }
            if (rereadAsked.get()) {
                // asked between the last check and the release of the flag above
                checkSoon(false);
            }
            return null;
        }, false);
    }

    /** One check: the file (when it changed, or {@code forced}), the store's version, and the last-use times. */
    void check(boolean forced) {
        file.ifPresent(path -> reloadFile(path, forced));
        try {
            if (!Objects.equals(store.version(), issued.version())) {
                refreshIssued();
            }
            if (!storeReachable) {
                storeReachable = true;
                LOG.infof("Client keys: %s answers again", store.where());
            }
        } catch (StateStoreUnavailable e) {
            // Once per outage: the keys read last still apply (a deletion made meanwhile applies when it is back).
            if (storeReachable) {
                storeReachable = false;
                LOG.warnf("Client keys: %s does not answer; the keys read last still apply", store.where());
            }
            return;
        }
        lastUses.flushIfDue();
    }

    private void reloadFile(Path path, boolean forced) {
        FileStamp now;
        try {
            now = stamp(path);
        } catch (IOException e) {
            synchronized (this) {
                if (fileStamp != null) {
                    LOG.errorf("GATEWAY_API_KEYS_FILE %s cannot be read (%s); the keys read last still apply",
                            path, describe(e));
                    fileStamp = null;
                }
            }
            return;
        }
        synchronized (this) {
            if (!forced && now.equals(fileStamp)) {
                return;
            }
            List<String> problems = new ArrayList<>();
            try {
                List<ClientKeys.Entry> entries = readFile(path, problems);
                fileStamp = now;
                fileEntries = entries;
            } catch (IOException e) {
                LOG.errorf("GATEWAY_API_KEYS_FILE %s cannot be read (%s); the keys read last still apply", path,
                        describe(e));
                return;
            }
            rebuild(problems);
            problems.forEach(problem -> LOG.errorf("Client keys: %s; that entry is not accepted", problem));
            LOG.infof("GATEWAY_API_KEYS_FILE re-read: %d keys from the file, %d accepted in all", fileEntries.size(),
                    current.size());
        }
    }

    /** Re-reads the keys made through the admin API (another replica changed them, or this one did). */
    public void refreshIssued() {
        IssuedKeyStore.Contents contents = store.load();
        synchronized (this) {
            issued = contents;
            List<String> problems = new ArrayList<>();
            rebuild(problems);
            problems.forEach(problem -> LOG.errorf("Client keys: %s", problem));
        }
    }

    /** Makes a key for {@code id} (a new random id when null) limited to {@code routes} (empty: all). */
    public Created create(String id, List<String> routes) {
        String keyId = id == null ? "key-" + HexFormat.of().formatHex(randomBytes(4)) : id;
        if (!IssuedKey.NAME.matcher(keyId).matches()) {
            throw new KeyRefused(400, "invalid_value", "id", "'id' must be 1 to 64 characters of A-Z a-z 0-9 . _ -.");
        }
        for (String route : routes) {
            if (route == null || !IssuedKey.NAME.matcher(route).matches()) {
                throw new KeyRefused(400, "invalid_value", "routes", "'routes' must list route names (1 to 64 "
                        + "characters of A-Z a-z 0-9 . _ -).");
            }
        }
        synchronized (this) {
            if (sourceOf(keyId) != null) {
                throw exists(keyId);
            }
        }
        String key = "mgk-" + Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(32));
        IssuedKey made = new IssuedKey(keyId, HexFormat.of().formatHex(ClientKeys.sha256(key)),
                List.copyOf(new java.util.LinkedHashSet<>(routes)), Instant.now());
        if (!store.add(made)) {
            throw exists(keyId);
        }
        refreshIssued();
        LOG.infof("Client key %s made through the admin API", keyId);
        return new Created(view(made.id(), Source.ADMIN, made.routes(), made.created(), Map.of()), key);
    }

    /** Deletes a key made through the admin API, answering with its view as it was. */
    public View delete(String id) {
        Source source;
        synchronized (this) {
            source = sourceOf(id);
        }
        if (source == Source.ENV || source == Source.FILE) {
            throw new KeyRefused(409, "key_not_deletable", "id", "Key '" + id + "' comes from "
                    + (source == Source.ENV ? "GATEWAY_API_KEYS; remove it there and restart."
                    : "GATEWAY_API_KEYS_FILE; remove its line there (the file is re-read within seconds)."));
        }
        IssuedKey known = issued.keys().stream().filter(key -> key.id().equals(id)).findFirst().orElse(null);
        if (!store.remove(id)) {
            throw new KeyRefused(404, "key_not_found", "id", "No key made through the admin API has the id '"
                    + org.canonic.gateway.relay.OpenAiError.echo(id, 64) + "'.");
        }
        refreshIssued();
        lastUses.forget(id);
        LOG.infof("Client key %s deleted through the admin API", id);
        return known == null ? view(id, Source.ADMIN, List.of(), null, Map.of())
                : view(id, Source.ADMIN, known.routes(), known.created(), Map.of());
    }

    /** Every accepted key, by source, with its last use as far as the store and this replica know. */
    public List<View> list() {
        Map<String, Long> used = lastUses.all();
        List<View> views = new ArrayList<>();
        synchronized (this) {
            environment.forEach(entry -> views.add(view(entry.id(), Source.ENV, List.copyOf(entry.routes()), null,
                    used)));
            fileEntries.forEach(entry -> views.add(view(entry.id(), Source.FILE, List.copyOf(entry.routes()), null,
                    used)));
            acceptedIssued.forEach(key -> views.add(view(key.id(), Source.ADMIN, key.routes(), key.created(),
                    used)));
        }
        return views;
    }

    /** The view of one key as it is now, or null. */
    public View find(String id) {
        return list().stream().filter(view -> view.id().equals(id)).findFirst().orElse(null);
    }

    private static View view(String id, Source source, List<String> routes, Instant created, Map<String, Long> used) {
        Long ms = used.get(id);
        return new View(id, source, routes.stream().sorted().toList(), created,
                ms == null || ms <= 0 ? null : Instant.ofEpochMilli(ms));
    }

    private KeyRefused exists(String id) {
        return new KeyRefused(409, "key_exists", "id", "A key with the id '" + id + "' exists already.");
    }

    private Source sourceOf(String id) {
        if (environment.stream().anyMatch(entry -> entry.id().equals(id))) {
            return Source.ENV;
        }
        if (fileEntries.stream().anyMatch(entry -> entry.id().equals(id))) {
            return Source.FILE;
        }
        return issued.keys().stream().anyMatch(key -> key.id().equals(id)) ? Source.ADMIN : null;
    }

    /** Writes the last-use times that moved since the last flush (best effort: they are a convenience). */
    public void flushUse() {
        lastUses.flush();
    }

    /** Composes the three sources; an admin-made key whose id a configured key took is refused (and logged). */
    private synchronized void rebuild(List<String> problems) {
        List<ClientKeys.Entry> entries = new ArrayList<>(environment);
        Set<String> ids = new HashSet<>();
        environment.forEach(entry -> ids.add(entry.id()));
        List<ClientKeys.Entry> fromFile = new ArrayList<>();
        for (ClientKeys.Entry entry : fileEntries) {
            if (ids.add(entry.id())) {
                fromFile.add(entry);
            } else {
                problems.add("GATEWAY_API_KEYS_FILE: the key id " + entry.id() + " is used twice");
            }
        }
        fileEntries = List.copyOf(fromFile);
        entries.addAll(fileEntries);
        List<IssuedKey> accepted = new ArrayList<>();
        for (IssuedKey key : issued.keys()) {
            if (ids.add(key.id())) {
                entries.add(key.entry());
                accepted.add(key);
            } else {
                problems.add("the key id " + key.id() + " made through the admin API is also configured; only the "
                        + "configured key is accepted");
            }
        }
        acceptedIssued = List.copyOf(accepted);
        current = ClientKeys.of(entries);
    }

    private static List<ClientKeys.Entry> readFile(Path path, List<String> problems) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new IOException("not a regular file");
        }
        if (Files.size(path) > MAX_FILE_BYTES) {
            throw new IOException("larger than " + MAX_FILE_BYTES + " bytes");
        }
        return KeyLoader.fromFile(path, new HashSet<>(), problems);
    }

    private static FileStamp stamp(Path path) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
        return new FileStamp(attributes.lastModifiedTime().toMillis(), attributes.size(), attributes.fileKey());
    }

    private static byte[] randomBytes(int count) {
        byte[] bytes = new byte[count];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    private static String describe(IOException e) {
        return e.getClass() == IOException.class && e.getMessage() != null ? e.getMessage()
                : e.getClass().getSimpleName();
    }

    /** Whether requests need a key at all. */
    public boolean required() {
        return required;
    }

    /** Stops the checks, gives {@code SIGHUP} back, and writes the last-use times. */
    public void close() {
        if (vertx != null && timer >= 0) {
            vertx.cancelTimer(timer);
        }
        if (hangUp != null) {
            hangUp.restore();
        }
        flushUse();
    }
}
