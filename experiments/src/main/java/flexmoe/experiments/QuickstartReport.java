package flexmoe.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import flexmoe.moe.eval.BitsPerByte;
import flexmoe.moe.eval.Cloze;
import java.util.List;
import java.util.Locale;

/** The quick start's comparison table, opt-out and routing shares, as markdown, CSV and a console summary. */
record QuickstartReport(List<String> domains, List<QuickstartCommand.ModelResult> models, String flexName, String optOutModel,
              String optOutName, String optOutLine, List<String> expertNames, int topK, String tunedName,
              JsonNode tuning) {

    private QuickstartCommand.ModelResult model(String name) {
        return models.stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
    }

    private String comparison() {
        StringBuilder sb = new StringBuilder("| model |");
        for (String d : domains) {
            sb.append(" ").append(d).append(" bits/byte |");
        }
        for (String d : domains) {
            sb.append(" ").append(d).append(" cloze |");
        }
        sb.append("\n|---|").append("---:|".repeat(2 * domains.size())).append('\n');
        for (QuickstartCommand.ModelResult m : models) {
            sb.append("| ").append(m.name()).append(" |");
            for (BitsPerByte.Result b : m.bits()) {
                sb.append(String.format(Locale.ROOT, " %.4f |", b.bitsPerByte()));
            }
            for (Cloze.Result c : m.cloze()) {
                sb.append(String.format(Locale.ROOT, " %.3f |", c.accuracy()));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private String optOut() {
        int i = domains.indexOf(optOutName);
        double with = model(flexName).bits().get(i).bitsPerByte();
        double without = model(optOutModel).bits().get(i).bitsPerByte();
        return optOutLine + ".\n\n" + String.format(Locale.ROOT, "Bits per byte on %s: %.4f with the %s expert,"
                + " %.4f without it (%+.4f); the public model alone: %.4f.%n", optOutName, with, optOutName, without,
                without - with, model("public").bits().get(i).bitsPerByte());
    }

    private String routing(String name) {
        QuickstartCommand.ModelResult flex = model(name);
        StringBuilder sb = new StringBuilder("| input domain | layer |");
        for (String e : expertNames) {
            sb.append(' ').append(e).append(" |");
        }
        sb.append("\n|---|---:|").append("---:|".repeat(expertNames.size())).append('\n');
        for (BitsPerByte.Result b : flex.bits()) {
            double[][] share = b.routingShare();
            for (int l = 0; l < share.length; l++) {
                sb.append("| ").append(b.domain()).append(" | ").append(l).append(" |");
                for (double s : share[l]) {
                    sb.append(String.format(Locale.ROOT, " %.3f |", s));
                }
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    String markdown(String command, double routerNorm, double routerLrScale, double biasInit) {
        QuickstartCommand.ModelResult first = models.getFirst();
        return "# FlexOlmo quick start\n\nCommand: `" + command + "` (see run.json for settings, seeds and timings).\n\n"
                + "Test split, per domain: bits per byte (tokenizer-independent; lower is better) and cloze accuracy"
                + String.format(Locale.ROOT, " (%d questions per domain, chance %.3f; higher is better). ",
                first.cloze().getFirst().questions(), first.cloze().getFirst().chance())
                + "`public+X`: the public model with expert X (top-2 of 2); `" + flexName + "`: public + "
                + String.join(" + ", expertNames.subList(1, expertNames.size())) + ", top-" + topK + "; `"
                + optOutModel + "`: " + flexName + " with " + optOutName + " excluded at inference; `" + tunedName
                + "`: " + flexName + " with its router tuned after the merge (see Router tuning).\n\n"
                + comparison() + "\n## Opt-out\n\n" + optOut() + "\n## Routing\n\nShare of the " + flexName
                + " model's tokens whose top-" + topK + " includes each expert, per input domain and layer (uniform: "
                + String.format(Locale.ROOT, "%.3f", (double) topK / expertNames.size()) + ").\n\n" + routing(flexName)
                + "\nThe same for " + tunedName + ":\n\n" + routing(tunedName)
                + "\n## Router tuning\n\n" + tunedName + ": FlexOlmo's optional stage after the merge. Only the router"
                + " rows (r_pub included) and expert biases of " + flexName + " train (AdamW, weight decay "
                + tuning.get("weightDecay").asText() + ", peak rate " + tuning.get("lr").asText() + ", "
                + tuning.get("steps").asText() + " steps, " + String.format(Locale.ROOT, "%,d",
                tuning.get("tokensSeen").asLong()) + " tokens) on a mix of one proxy set per expert ("
                + proxySizes(tuning.get("proxyDocuments")) + " public train documents that a nearest-centroid classifier, expert"
                + " domain vs public on the public model's mean hidden states, rates most like the domain) and "
                + tuning.get("publicSampleDocuments").asText() + " sampled public train documents; no private"
                + " document enters the mix. Opt-out is exact only for the untuned " + flexName + " (checked above);"
                + " the tuned router rows were fitted with every expert present.\n"
                + "\n## Router embeddings\n\nHidden-mean (the public model's mean final hidden state over documents of"
                + " the domain), rescaled to norm " + routerNorm + ": unscaled they are about sqrt(d_model) long,"
                + " the router logits are large and the router z-loss dominates expert training; the paper's stored"
                + " router embeddings have norms 0.41-0.55.\n\nDuring expert training the router row r_i and bias b_i"
                + String.format(Locale.ROOT, " learned at %s x the expert's learning rate%s; b_i started at %s.",
                routerLrScale, routerLrScale == 0 ? " (kept at their init)" : "", biasInit)
                + " The paper trains them at the expert's rate; at this scale that makes the composed router send"
                + " nearly every token to one expert (README, routing study).\n";
    }

    /** {"math":100,"code":100} as "math 100, code 100". */
    private static String proxySizes(JsonNode sizes) {
        List<String> parts = new java.util.ArrayList<>();
        sizes.properties().forEach(e -> parts.add(e.getKey() + " " + e.getValue().asText()));
        return String.join(", ", parts);
    }

    String csv() {
        StringBuilder sb = new StringBuilder("model,domain,documents,bytes,tokens,bits_per_byte,cloze_questions,"
                + "cloze_correct,cloze_accuracy\n");
        for (QuickstartCommand.ModelResult m : models) {
            for (int i = 0; i < m.bits().size(); i++) {
                BitsPerByte.Result b = m.bits().get(i);
                Cloze.Result c = m.cloze().get(i);
                sb.append(String.format(Locale.ROOT, "%s,%s,%d,%d,%d,%.6f,%d,%d,%.4f%n", m.name(), b.domain(),
                        b.documents(), b.bytes(), b.tokens(), b.bitsPerByte(), c.questions(), c.correct(),
                        c.accuracy()));
            }
        }
        return sb.toString();
    }

    String summary() {
        return comparison() + "\n" + optOut() + "\n";
    }
}
