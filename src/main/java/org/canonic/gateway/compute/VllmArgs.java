package org.canonic.gateway.compute;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The extra vLLM arguments an operator may add to a recipe's (reconfigure). The recipe owns what the gateway relies
 * on: the model and its served name (routing), the port and host (the endpoint it registers), the API key (the
 * instance's own), TLS files. Flags are read as vLLM's argparse reads them: {@code --flag=value} and
 * {@code --flag value}, underscores for dashes, and any unambiguous prefix of a flag (argparse's abbreviations), so
 * {@code --api-key=x}, {@code --api_key x} and {@code --api-k x} are all refused. RunPod receives the arguments as
 * one space-joined string, so no argument may hold whitespace or quotes, and a bare value must follow a flag (a
 * positional argument would be read as the model).
 */
public final class VllmArgs {

    static final Set<String> RECIPE_FLAGS = Set.of("--model", "--served-model-name", "--port", "--host",
            "--api-key", "--ssl-keyfile", "--ssl-certfile", "--ssl-ca-certs", "--root-path");
    private static final Pattern FLAG = Pattern.compile("--[a-z0-9][a-z0-9_-]*");
    private static final Pattern VALUE = Pattern.compile("[^\\s\"'`\\\\$;|&<>]+");
    static final int MAX_ARGS = 64;
    static final int MAX_LENGTH = 256;

    private VllmArgs() {
    }

    /**
     * Checks {@code args} and returns them as given.
     *
     * @throws ComputeException 400 {@code invalid_args} naming the first argument refused and why
     */
    public static List<String> extra(List<String> args) {
        if (args.size() > MAX_ARGS) {
            throw refused("at most " + MAX_ARGS + " arguments");
        }
        boolean valueAllowed = false;
        for (String arg : args) {
            if (arg == null || arg.isEmpty() || arg.length() > MAX_LENGTH || !VALUE.matcher(arg).matches()) {
                throw refused("'" + shown(arg) + "' is empty, longer than " + MAX_LENGTH
                        + " characters, or holds whitespace, quotes or shell characters");
            }
            if (!arg.startsWith("-")) {
                if (!valueAllowed) {
                    throw refused("'" + shown(arg) + "' is a value without a flag before it (vLLM would read a"
                            + " positional argument as the model)");
                }
                valueAllowed = false;
                continue;
            }
            int equals = arg.indexOf('=');
            String name = (equals < 0 ? arg : arg.substring(0, equals)).toLowerCase(Locale.ROOT).replace('_', '-');
            if (!FLAG.matcher(name).matches()) {
                throw refused("'" + shown(arg) + "' is not a --flag (short flags are not accepted)");
            }
            for (String reserved : RECIPE_FLAGS) {
                if (reserved.startsWith(name)) {
                    throw refused(name + " sets (or abbreviates) " + reserved + ", which is the recipe's: "
                            + String.join(", ", new java.util.TreeSet<>(RECIPE_FLAGS)) + " cannot be changed");
                }
            }
            valueAllowed = equals < 0;
        }
        return new ArrayList<>(args);
    }

    private static String shown(String arg) {
        if (arg == null) {
            return "null";
        }
        String bounded = arg.length() > 40 ? arg.substring(0, 40) + "..." : arg;
        return bounded.replaceAll("[^\\x20-\\x7e]", "?");
    }

    private static ComputeException refused(String why) {
        return new ComputeException(400, "invalid_args", "args: " + why + ".");
    }
}
