"""Operations whose plans are pinned as golden text (tests/planning/golden/<fixture>__<case>.txt)."""

CASES = {
 "shop": {
  "root_split": "{ me { name } topProducts { name } }",
  "key_jump_list": "{ topProducts { name reviews { body } } }",
  "requires": "{ topProducts { shippingEstimate } }",
  "requires_and_user_field": "{ topProducts { price shippingEstimate inStock } }",
  "provides": "{ latestReviews { author { username } } }",
  "provides_not_covering": "{ latestReviews { author { username name } } }",
  "nested_jumps": "{ me { reviews { product { name shippingEstimate } } } }",
  "aliases_and_args": "query($n: Int) { topProducts { a: reviews(first: $n) { body } b: reviews(first: 1) { id } } }",
  "variables_only_used": "query($upc: String!, $n: Int) { product(upc: $upc) { name reviews(first: $n) { body } } }",
  "include_condition": "query($withReviews: Boolean!) { topProducts { name reviews @include(if: $withReviews) { body } } }",
  "mixed_conditions_share_fetch": "query($r: Boolean!) { topProducts { reviews { body } recent: reviews(first: 1) @include(if: $r) { id } } }",
  "skip_condition": "query($noStock: Boolean = false) { topProducts { name inStock @skip(if: $noStock) } }",
  "typename_everywhere": "{ __typename topProducts { __typename t: __typename reviews { __typename } } }",
  "named_fragments": "fragment P on Product { name reviews { body } } query Q { topProducts { ...P upc } }",
  "mutation_serial": "mutation { first: addProduct(name: \"a\") { upc } addReview(upc: \"1\", body: \"b\") { id product { name } } second: addProduct(name: \"c\") { name } }",
 },
 "catalog": {
  "interface_explode": "{ media { id title ... on Book { pages author } ... on Movie { duration director } } }",
  "interface_object_field": "{ media { id rating } }",
  "interface_object_root_typename": "{ topRated { __typename id title } }",
  "interface_object_root_plain": "{ topRated { id rating } }",
  "union": "{ search(term: \"x\") { __typename ... on Book { title author } ... on Movie { title director } } }",
  "override": "{ media { ... on Movie { duration } } }",
 },
}
