// Node 20 lacks Promise.withResolvers (Node 22 has it); preloaded with NODE_OPTIONS=--import.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
