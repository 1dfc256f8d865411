// The pipeline as a Cake recipe: the host and one file per phase. This repository's build.cake loads it
// after referencing the module it just built; other repositories get it from the ImagePromotion.Recipe
// package (see README.md, "Adopt it in your repository"), with the module from the ImagePromotion package.
#load "lib/host.cake"
#load "lib/arguments.cake"
#load "phases/build-once.cake"
#load "phases/push-dev.cake"
#load "phases/scan.cake"
#load "phases/promote-staging.cake"
#load "phases/promote-production.cake"
#load "phases/release-tag.cake"
#load "phases/rollback.cake"
#load "phases/evidence.cake"
#load "phases/copy.cake"
#load "phases/update-manifest.cake"
#load "phases/sandbox.cake"
