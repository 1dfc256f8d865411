// Entry point: ./build.sh --target=<Phase> [--config=PATH] [--dryrun] [--verbosity=diagnostic]
// The phases are thin adapters over the ImagePromotion module; all logic and all tests live there.
#r "../.artifacts/module/ImagePromotion.dll"
#r "../.artifacts/module/YamlDotNet.dll"

#load "lib/host.cake"
#load "phases/build-once.cake"
#load "phases/push-dev.cake"
#load "phases/promote-staging.cake"
#load "phases/promote-production.cake"
#load "phases/release-tag.cake"
#load "phases/copy.cake"
#load "phases/update-manifest.cake"
#load "phases/sandbox.cake"

var target = Argument("target", "Sandbox");

Task("Default").IsDependentOn("Sandbox");

RunPipeline(target);
