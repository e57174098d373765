//! `#[tulip::main]` and `#[tulip::test]`: run an `async fn` on a fresh tulip loop.
#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]
#![forbid(unsafe_code)]

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{ItemFn, Meta, Token};

/// Runs `async fn main` on a new loop, as `tulip::run(main())` would.
///
/// Options: `debug` turns on debug mode; `test_clock` runs on the test clock.
///
/// ```
/// #[tulip::main]
/// async fn main() {
///     println!("hello from the loop");
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, false)
}

/// Runs an `async fn` test on a new loop. `#[tulip::test(test_clock)]` runs it on the test
/// clock, where sleeps complete instantly and time is exact; `debug` turns on debug mode.
///
/// ```
/// #[tulip::test(test_clock)]
/// async fn sleeps_take_no_real_time() {
///     tulip::time::sleep(std::time::Duration::from_secs(60)).await;
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, true)
}

fn expand(args: TokenStream, item: TokenStream, is_test: bool) -> TokenStream {
    match try_expand(args, item, is_test) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}

fn try_expand(
    args: TokenStream,
    item: TokenStream,
    is_test: bool,
) -> syn::Result<proc_macro2::TokenStream> {
    let options = Punctuated::<Meta, Token![,]>::parse_terminated.parse(args)?;
    let mut builder = quote! { ::tulip::runtime::Builder::new() };
    for option in &options {
        let Meta::Path(path) = option else {
            return Err(syn::Error::new_spanned(
                option,
                "expected `debug` or `test_clock`",
            ));
        };
        if path.is_ident("test_clock") {
            builder = quote! { #builder.test_clock() };
        } else if path.is_ident("debug") {
            builder = quote! { #builder.debug(true) };
        } else {
            return Err(syn::Error::new_spanned(
                path,
                "unknown option: expected `debug` or `test_clock`",
            ));
        }
    }
    let mut function: ItemFn = syn::parse(item)?;
    if function.sig.asyncness.take().is_none() {
        return Err(syn::Error::new(
            Span::call_site(),
            "the function must be `async fn`",
        ));
    }
    let body = &function.block;
    let test_attr = if is_test {
        quote! { #[::core::prelude::v1::test] }
    } else {
        quote! {}
    };
    let block = quote! {
        {
            let mut runtime = match #builder.build() {
                Ok(runtime) => runtime,
                Err(err) => panic!("could not start the tulip event loop: {err}"),
            };
            let output = runtime.block_on(async move #body);
            runtime.close();
            output
        }
    };
    function.block = syn::parse2(block)?;
    let attrs = &function.attrs;
    let vis = &function.vis;
    let sig = &function.sig;
    let block = &function.block;
    Ok(quote! {
        #test_attr
        #(#attrs)*
        #vis #sig #block
    })
}
