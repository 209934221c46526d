"""Where paragraphs come from: metaphorpsum.com, or the offline generator."""
