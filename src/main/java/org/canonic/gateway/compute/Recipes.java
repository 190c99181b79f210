package org.canonic.gateway.compute;

import org.canonic.gateway.config.ComputeConfig;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The recipes by name: built-in {@code chat} (Qwen2.5-7B-Instruct) and {@code kilocode} (deepseek-coder-6.7b), each
 * joining the route of the same name, overlaid by {@code gateway.compute.recipes.<name>.*}.
 */
public final class Recipes {

    private final Map<String, Recipe> recipes;

    public Recipes(Map<String, ComputeConfig.RecipeConfig> configured) {
        Map<String, Recipe> all = new LinkedHashMap<>();
        all.put("chat", builtIn("chat", "Qwen/Qwen2.5-7B-Instruct"));
        all.put("kilocode", builtIn("kilocode", "deepseek-ai/deepseek-coder-6.7b-instruct"));
        configured.forEach((name, c) -> {
            Recipe base = all.getOrDefault(name, builtIn(name, null));
            all.put(name, new Recipe(name, c.route().orElse(base.route()), c.position().orElse(base.position()),
                    c.model().orElse(base.model()), c.vastaiImage().orElse(base.vastaiImage()),
                    c.diskGb().orElse(base.diskGb()), c.vastaiMaxModelLen().orElse(base.vastaiMaxModelLen()),
                    c.runpodImage().orElse(base.runpodImage()), c.runpodMaxModelLen().orElse(base.runpodMaxModelLen()),
                    c.minVramGb().orElse(base.minVramGb()), c.runpodGpu().orElse(base.runpodGpu())));
        });
        all.values().removeIf(r -> r.model() == null);
        this.recipes = Collections.unmodifiableMap(all);
    }

    private static Recipe builtIn(String name, String model) {
        return new Recipe(name, name, null, model, Recipe.DEFAULT_VASTAI_IMAGE, 64, 16384,
                Recipe.DEFAULT_RUNPOD_IMAGE, 32768, 24, "NVIDIA GeForce RTX 4090");
    }

    public Optional<Recipe> find(String name) {
        return Optional.ofNullable(name == null ? null : recipes.get(name));
    }

    public Map<String, Recipe> all() {
        return recipes;
    }
}
