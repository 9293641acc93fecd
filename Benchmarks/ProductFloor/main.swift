// The products-alone floor under `dbn bench`: the matrix products of a CD-1, greedy
// pre-training or fine-tuning epoch with nothing in between, in the lane split of the training
// code (ProductFloor.swift). Usage, from the repository root:
//
//     swift run --package-path Benchmarks -c release product-floor [cd1|pretrain|finetune] [lanes] [epochs]
//
// lanes defaults to the BLAS thread count (1: each product threaded by OpenBLAS). Prints one
// line per epoch and one JSON line with the median.
import DeepBelief
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
let work = arguments.first ?? "cd1"
let sizes: [Int]
switch work {
case "cd1": sizes = [784, 500]
case "pretrain": sizes = [784, 500, 500, 2000]
case "finetune": sizes = [784, 500, 500, 2000, 10]
default:
    FileHandle.standardError.write(Data("Error: work must be cd1, pretrain or finetune, got '\(work)'\n".utf8))
    exit(2)
}
let lanes = max(1, arguments.dropFirst().first.flatMap { Int($0) } ?? BLASThreads.count)
let epochs = max(1, arguments.dropFirst(2).first.flatMap { Int($0) } ?? 1)
let images = 60_000, batch = 100
let flop = work == "finetune" ? EpochFLOPs.fineTuning(sizes: sizes, images: images)
                              : EpochFLOPs.contrastiveDivergence(sizes: sizes, images: images)

var times: [Double] = []
for epoch in 0..<epochs {
    // A greedy epoch is one CD-1 epoch per RBM of the stack.
    let seconds = work == "finetune"
        ? ProductFloor.finetune(images: images, sizes: sizes, batch: batch, lanes: lanes)
        : zip(sizes, sizes.dropFirst()).reduce(0.0) { total, rbm in
            total + ProductFloor.cd1(images: images, visible: rbm.0, hidden: rbm.1, batch: batch, lanes: lanes)
        }
    times.append(seconds)
    print("  epoch \(epoch + 1): \(String(format: "%.3f", seconds)) s of products in \(lanes) lane(s)")
}
let median = times.sorted()[times.count / 2]
print("\(work)-products: \(String(format: "%.3f", median)) s per epoch, \(String(format: "%.1f", flop / median / 1e9)) GFLOP/s")
print("{\"work\":\"\(work)-products\",\"lanes\":\(lanes),\"seconds\":\(median),\"gflops\":\(flop / median / 1e9)}")
