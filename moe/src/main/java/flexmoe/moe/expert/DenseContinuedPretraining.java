package flexmoe.moe.expert;

import flexmoe.moe.model.Parameters;

/**
 * The baselines' set-up (FlexOlmo's "dense experts", the inputs of model soup, BTM and BTX): the whole public model
 * continued-pretrained on one domain. A deep copy of the public model with every tensor trainable; nothing is shared
 * with the original, so training the copy leaves the public model's bits untouched.
 */
public final class DenseContinuedPretraining {

    private DenseContinuedPretraining() {
    }

    /** A trainable deep copy of the dense public model. */
    public static Parameters prepare(Parameters publicModel) {
        if (publicModel == null) {
            throw new IllegalArgumentException("dense continued pretraining: the public model is required");
        }
        if (!publicModel.config().isDense()) {
            throw new IllegalArgumentException("dense continued pretraining: the public model must be dense (1 expert),"
                    + " it has " + publicModel.config().experts());
        }
        // Through the Hugging Face tensors: a copy of every value, each in a new Tensor, in the checked layout.
        Parameters copy = Parameters.fromHuggingFace(publicModel.config(), publicModel.huggingFaceTensors());
        copy.trainAll();
        return copy;
    }
}
