package org.canonic.gateway.testing;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Collects every log record the gateway writes while open (in-process tests only). The tests run with the gateway's
 * request and ledger lines turned down (see {@link FakeBackends}) so that their output stays readable; while a
 * capture is open those categories log everything again, so a test can check what they would write.
 */
public final class LogCapture extends Handler implements AutoCloseable {

    /** The categories the test configuration turns down, and everything below them. */
    private static final List<String> CATEGORIES = List.of("org.canonic.gateway", "org.canonic.gateway.api",
            "org.canonic.gateway.routing", "gateway.ledger");

    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    /** The loggers whose level was lowered (held, so they cannot be collected) and their previous levels. */
    private final Map<Logger, Level> lowered = new LinkedHashMap<>();

    private LogCapture() {
    }

    public static LogCapture start() {
        LogCapture capture = new LogCapture();
        for (String category : CATEGORIES) {
            Logger logger = Logger.getLogger(category);
            capture.lowered.put(logger, logger.getLevel());
            logger.setLevel(Level.FINE);
        }
        Logger.getLogger("").addHandler(capture);
        return capture;
    }

    public List<LogRecord> records() {
        return List.copyOf(records);
    }

    /** Records carrying a stack trace. */
    public List<LogRecord> withStackTraces() {
        return records.stream().filter(r -> r.getThrown() != null).toList();
    }

    /** Everything logged, as text (messages with their parameters), for searching. */
    public String text() {
        StringBuilder all = new StringBuilder();
        for (LogRecord record : records) {
            String message = record.getMessage();
            if (record.getParameters() != null) {
                for (Object parameter : record.getParameters()) {
                    message += " " + parameter;
                }
            }
            all.append(message).append('\n');
        }
        return all.toString();
    }

    /**
     * Error records that name neither a request nor a backend: an operator can do nothing with those. A record
     * names a request when its text holds a request id ({@code request <id>}) or a backend's name.
     */
    public List<String> errorsWithoutContext() {
        List<String> backends = FakeBackends.BACKEND_NAMES;
        List<String> bare = new java.util.ArrayList<>();
        for (LogRecord record : records) {
            if (record.getLevel().intValue() < java.util.logging.Level.SEVERE.intValue()) {
                continue;
            }
            String text = record instanceof org.jboss.logmanager.ExtLogRecord ext ? ext.getFormattedMessage()
                    : String.valueOf(record.getMessage());
            boolean named = text.matches("(?s).*\\brequests? [A-Za-z0-9._:-]+.*")
                    || backends.stream().anyMatch(name -> text.contains("backend " + name)
                    || text.contains(name + ":"));
            if (!named) {
                bare.add(record.getLoggerName() + ": " + text);
            }
        }
        return bare;
    }

    @Override
    public void publish(LogRecord record) {
        records.add(record);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        Logger.getLogger("").removeHandler(this);
        lowered.forEach(Logger::setLevel);
    }
}
