package flexmoe.moe.artifact;

/** What an artifact file holds; its JSON name is {@link #jsonName()}. */
public enum ArtifactKind {
    /** The dense public model, optionally with the public router embedding r_pub. */
    PUBLIC("public"),
    /** One expert: its FFN, router row and bias in every layer, trained against one public model. */
    EXPERT("expert"),
    /** A public model and a list of experts stacked into one MoE model. */
    COMPOSED("composed");

    private final String jsonName;

    ArtifactKind(String jsonName) {
        this.jsonName = jsonName;
    }

    public String jsonName() {
        return jsonName;
    }

    /** The kind with this JSON name, or null. */
    static ArtifactKind fromJson(String name) {
        for (ArtifactKind k : values()) {
            if (k.jsonName.equals(name)) {
                return k;
            }
        }
        return null;
    }
}
