// Entry point: ./build.sh --target=<Phase> [--config=PATH] [--dryrun] [--verbosity=diagnostic]
// The phases are thin adapters over the ImagePromotion module; all logic and all tests live there.
#r "../.artifacts/module/ImagePromotion.dll"
#r "../.artifacts/module/YamlDotNet.dll"
#r "../.artifacts/module/Octokit.dll"
#r "../.artifacts/module/CliWrap.dll"
#r "../.artifacts/module/Polly.Core.dll"

#load "recipe.cake"

RunPipeline(Argument("target", "Sandbox"));
