package org.canonic.gateway.compute;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How to start vLLM for one route: model, images, disk, context length. The per-instance {@code --api-key} is always
 * added, because both providers expose port 8000 to the internet (Vast.ai plain HTTP, RunPod a public proxy).
 *
 * @param position where the backend joins its route (0 = first), or null for last
 */
public record Recipe(String name, String route, Integer position, String model, String vastaiImage, int diskGb,
                     int vastaiMaxModelLen, String runpodImage, int runpodMaxModelLen, double minVramGb,
                     String runpodGpu) {

    public static final String DEFAULT_VASTAI_IMAGE = "vllm/vllm-openai:v0.7.3";
    public static final String DEFAULT_RUNPOD_IMAGE = "vllm/vllm-openai";

    /** Vast.ai {@code runtype:"args"}: the image's entrypoint is kept and this is its argv. */
    public List<String> vastaiArgs(String key, List<String> extra) {
        List<String> args = new ArrayList<>(List.of("--model", model, "--max-model-len",
                Integer.toString(vastaiMaxModelLen), "--enforce-eager", "--gpu-memory-utilization", "0.95",
                "--port", "8000"));
        args.addAll(extra);
        args.add("--api-key");
        args.add(key);
        return args;
    }

    /** Where the machine writes the TLS identity the gateway made for it, and vLLM reads it. */
    static final String TLS_DIR = "/run/magic-gateway";

    /**
     * Vast.ai {@code onstart} for an instance serving vLLM over TLS ({@code runtype:"ssh"}: Vast's own entrypoint,
     * then this script). The identity arrives in the environment ({@code MG_TLS_CERT}, {@code MG_TLS_KEY}); the
     * script writes it to owner-only files, drops the key from the environment and starts vLLM with the recipe's
     * arguments plus {@code --ssl-certfile} and {@code --ssl-keyfile}. Every argument is single-quoted.
     */
    public String vastaiTlsOnstart(String key, List<String> extra) {
        StringBuilder command = new StringBuilder("python3 -m vllm.entrypoints.openai.api_server");
        for (String arg : vastaiArgs(key, extra)) {
            command.append(' ').append(quoted(arg));
        }
        command.append(" --ssl-certfile ").append(TLS_DIR).append("/cert.pem --ssl-keyfile ").append(TLS_DIR)
                .append("/key.pem");
        return "#!/bin/bash\n"
                + "# magic-gateway: vLLM over TLS with the certificate the gateway made for this instance (it pins it)\n"
                + "set -e\numask 077\nmkdir -p " + TLS_DIR + "\n"
                + "printf '%s' \"$MG_TLS_CERT\" > " + TLS_DIR + "/cert.pem\n"
                + "printf '%s' \"$MG_TLS_KEY\" > " + TLS_DIR + "/key.pem\n"
                + "unset MG_TLS_KEY\n"
                + "nohup " + command + " >> /var/log/vllm.log 2>&1 &\n";
    }

    private static String quoted(String arg) {
        return "'" + arg.replace("'", "'\\''") + "'";
    }

    /** Docker options ride as env keys on Vast.ai ({@code "-p 8000:8000":"1"}). */
    public Map<String, String> vastaiEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("-p 8000:8000", "1");
        env.put("HF_HUB_ENABLE_HF_TRANSFER", "0");
        return env;
    }

    /** RunPod v2 {@code args} is one string handed to the image's entrypoint. */
    public String runpodArgs(String key, List<String> extra) {
        StringBuilder args = new StringBuilder("--model " + model + " --max-model-len " + runpodMaxModelLen
                + " --gpu-memory-utilization 0.90 --port 8000");
        extra.forEach(a -> args.append(' ').append(a));
        return args.append(" --api-key ").append(key).toString();
    }

    public Map<String, String> runpodEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("MAX_MODEL_LEN", Integer.toString(runpodMaxModelLen));
        env.put("GPU_MEMORY_UTILIZATION", "0.90");
        return env;
    }
}
